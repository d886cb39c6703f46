"""The current figure document of each topic, stored by the figures projection.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: existing rows get their document when the projection next writes the topic
    # (or on `factstore project --rebuild figures`); until then readers compute it.
    op.add_column("topics", sa.Column("document_json", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("topics", "document_json")
