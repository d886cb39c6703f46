"""Claims indexed by (topic, asserted_position) together with every column an as-of read of a
topic's figure needs, so that read walks one index range instead of fetching each claim's row
(at 1M events every claim of a topic sits on its own table page).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# queries.VIEW_COLUMNS after the two the reads search and order by (a copy: a migration must
# not change when the code does).
_COVERED = [
    "claim_id",
    "kind",
    "value",
    "lower",
    "upper",
    "qualifier",
    "unit",
    "as_of",
    "published_at",
    "attributed_to",
    "outlet",
    "article_id",
    "status",
    "status_position",
]


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_topic"))
        batch_op.create_index(
            batch_op.f("ix_claims_topic"), ["topic", "asserted_position", *_COVERED], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_topic"))
        batch_op.create_index(
            batch_op.f("ix_claims_topic"), ["topic", "asserted_position"], unique=False
        )
