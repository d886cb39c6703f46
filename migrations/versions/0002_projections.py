"""Projection tables (articles, claims index, status changes, topics, figure history,
checkpoints) and an index for known_at=<timestamp> lookups on the log.

Revision ID: 0002_projections
Revises: 0001_events
Create Date: 2026-11-22 10:58:02.259192
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_projections"
down_revision: str | None = "0001_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("stream_id", sa.String(length=512), nullable=False),
        sa.Column("article_id", sa.String(length=512), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("outlet", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("published_at", sa.String(length=32), nullable=True),
        sa.Column("content_hash", sa.String(length=80), nullable=False),
        sa.Column("extractor_version", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revisions", sa.Integer(), nullable=False),
        sa.Column(
            "first_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "last_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", name=op.f("pk_articles")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_outlet"), ["outlet"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_articles_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "claim_status_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("claim_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_status_changes")),
    )
    with op.batch_alter_table("claim_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_status_changes_claim_id"), ["claim_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_claim_status_changes_topic"), ["topic", "position"], unique=False
        )

    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("stream_id", sa.String(length=512), nullable=False),
        sa.Column("article_id", sa.String(length=512), nullable=False),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("qualifier", sa.String(length=30), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.String(length=32), nullable=True),
        sa.Column("published_at", sa.String(length=32), nullable=True),
        sa.Column("attributed_to", sa.String(length=200), nullable=True),
        sa.Column("outlet", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "asserted_position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("asserted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("claim_json", sa.Text(), nullable=False),
        sa.Column("article_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claims")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claims_attributed_to"), ["attributed_to"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_claims_measure"), ["measure"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_place"), ["place"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_stream_id"), ["stream_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_topic"), ["topic"], unique=False)

    op.create_table(
        "figure_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause_event_type", sa.String(length=200), nullable=False),
        sa.Column("cause_event_id", sa.String(length=36), nullable=False),
        sa.Column("cause_claim_id", sa.String(length=36), nullable=True),
        sa.Column("cause_detail", sa.Text(), nullable=True),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
        sa.Column("conflict", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_history")),
    )
    with op.batch_alter_table("figure_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_figure_history_topic"), ["topic", "position"], unique=False
        )

    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projection_checkpoints")),
    )
    op.create_table(
        "topics",
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("best_claim_id", sa.String(length=36), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("qualifier", sa.String(length=30), nullable=True),
        sa.Column("as_of", sa.String(length=32), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("conflict", sa.Boolean(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=True),
        sa.Column(
            "updated_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_topics")),
    )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topics_measure"), ["measure"], unique=False)
        batch_op.create_index(batch_op.f("ix_topics_place"), ["place"], unique=False)

    # A plain CREATE INDEX: a batch (copy-and-move) alter would drop the append-only triggers.
    op.create_index(op.f("ix_events_recorded_at"), "events", ["recorded_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_events_recorded_at"), table_name="events")

    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topics_place"))
        batch_op.drop_index(batch_op.f("ix_topics_measure"))

    op.drop_table("topics")
    op.drop_table("projection_checkpoints")
    with op.batch_alter_table("figure_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_history_topic"))

    op.drop_table("figure_history")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_topic"))
        batch_op.drop_index(batch_op.f("ix_claims_stream_id"))
        batch_op.drop_index(batch_op.f("ix_claims_place"))
        batch_op.drop_index(batch_op.f("ix_claims_measure"))
        batch_op.drop_index(batch_op.f("ix_claims_attributed_to"))

    op.drop_table("claims")
    with op.batch_alter_table("claim_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_status_changes_topic"))
        batch_op.drop_index(batch_op.f("ix_claim_status_changes_claim_id"))

    op.drop_table("claim_status_changes")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_published_at"))
        batch_op.drop_index(batch_op.f("ix_articles_outlet"))

    op.drop_table("articles")
