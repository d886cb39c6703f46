"""SQLite: claims indexed by (topic, asserted_position) together with every other column an as-of
read of a topic's figure reads, so that read walks one index range instead of visiting each
claim's table row (at 1M events every claim of a topic sits on its own page). PostgreSQL keeps
the narrow index: there the wide one cost the 1M rebuild ~40 % (index maintenance during COPY)
and reads gained nothing measurable.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What queries.topic_views reads besides the two it searches and orders by (a copy: a migration
# must not change when the code does).
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
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_topic"))
        batch_op.create_index(
            "ix_claims_topic_views", ["topic", "asserted_position", *_COVERED], unique=False
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_topic_views")
        batch_op.create_index(
            batch_op.f("ix_claims_topic"), ["topic", "asserted_position"], unique=False
        )
