"""Tables the projections own. Unlike `events`, these are derived state: a rebuild deletes and
recomputes them from the log, and every row can be traced back to the event position that
produced it."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from factstore.store.models import Base, PositionType

# An autoincrementing 64-bit id that is SQLite's rowid there.
RowIdType = BigInteger().with_variant(Integer(), "sqlite")


class ProjectionCheckpoint(Base):
    """How far each projection has applied the log; written in the same transaction as its rows."""

    __tablename__ = "projection_checkpoints"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(PositionType, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ArticleRow(Base):
    """Projection `articles`: the current state of every article stream."""

    __tablename__ = "articles"

    stream_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    article_id: Mapped[str] = mapped_column(String(512), nullable=False)
    title: Mapped[str | None] = mapped_column(Text)
    outlet: Mapped[str | None] = mapped_column(String(200), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(32), index=True)
    content_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    extractor_version: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # active | withdrawn
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    revisions: Mapped[int] = mapped_column(Integer, nullable=False)
    first_position: Mapped[int] = mapped_column(PositionType, nullable=False)
    last_position: Mapped[int] = mapped_column(PositionType, nullable=False)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


# The claims-table columns of domain.figures.ClaimView, in its field order (CLAIM_VIEW_COLUMNS).
CLAIM_VIEW_NAMES = (
    "claim_id",
    "topic",
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
    "asserted_position",
)


class ClaimRow(Base):
    """Projection `figures`, claims index: every claim with its current status."""

    __tablename__ = "claims"

    claim_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    topic: Mapped[str] = mapped_column(String(300), nullable=False)
    stream_id: Mapped[str] = mapped_column(String(512), nullable=False, index=True)
    article_id: Mapped[str] = mapped_column(String(512), nullable=False)
    measure: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(60), nullable=False)
    place: Mapped[str | None] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    qualifier: Mapped[str] = mapped_column(String(30), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    as_of: Mapped[str | None] = mapped_column(String(32))
    published_at: Mapped[str | None] = mapped_column(String(32))
    attributed_to: Mapped[str | None] = mapped_column(String(200), index=True)
    outlet: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    # The ClaimAsserted event, and the full claim and article provenance as asserted.
    asserted_position: Mapped[int] = mapped_column(PositionType, nullable=False)
    asserted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status_position: Mapped[int] = mapped_column(PositionType, nullable=False)
    claim_json: Mapped[str] = mapped_column(Text, nullable=False)
    article_json: Mapped[str] = mapped_column(Text, nullable=False)

    # As-of reads fetch one topic's claims up to a position, in position order. On SQLite the
    # index also holds every other column they read (queries._VIEW_COLUMNS), so they never
    # visit the table rows, which at 1M events are a page each; on PostgreSQL that width cost the
    # rebuild (COPY into the index) +40 % and reads gained nothing measurable (migration 0006).
    __table_args__ = (
        Index(None, "topic", "asserted_position").ddl_if(dialect="postgresql"),
        Index(
            "ix_claims_topic_views",
            "topic",
            "asserted_position",
            *(n for n in CLAIM_VIEW_NAMES if n not in ("topic", "asserted_position")),
            "status_position",
        ).ddl_if(dialect="sqlite"),
    )


class ClaimStatusChange(Base):
    """Projection `figures`: every status change of a claim, so a topic's claims can be replayed
    to any past position without reading the log."""

    __tablename__ = "claim_status_changes"

    id: Mapped[int] = mapped_column(RowIdType, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    topic: Mapped[str] = mapped_column(String(300), nullable=False)
    position: Mapped[int] = mapped_column(PositionType, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index(None, "topic", "position"),)


class TopicRow(Base):
    """Projection `figures`: the current best figure of every topic."""

    __tablename__ = "topics"

    topic: Mapped[str] = mapped_column(String(300), primary_key=True)
    measure: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(60), nullable=False)
    place: Mapped[str | None] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    best_claim_id: Mapped[str | None] = mapped_column(String(36))
    value: Mapped[float | None] = mapped_column(Float)
    qualifier: Mapped[str | None] = mapped_column(String(30))
    as_of: Mapped[str | None] = mapped_column(String(32))
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    sources: Mapped[int] = mapped_column(Integer, nullable=False)
    claims: Mapped[int] = mapped_column(Integer, nullable=False)
    conflict: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # The figure summary the history compares against (see domain.figures.figure_summary).
    summary_json: Mapped[str | None] = mapped_column(Text)
    # The current figure document, encoded as the API serves it (documents.current_documents):
    # a read of the current figure is this one row. NULL in stores migrated from before 0005
    # until the projection is rebuilt; readers then build the document from the claims.
    document_json: Mapped[str | None] = mapped_column(Text)
    updated_position: Mapped[int] = mapped_column(PositionType, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class FigureHistoryRow(Base):
    """Projection `figures`: one row each time a topic's best figure or its range changed."""

    __tablename__ = "figure_history"

    id: Mapped[int] = mapped_column(RowIdType, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(300), nullable=False)
    position: Mapped[int] = mapped_column(PositionType, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    cause_event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    cause_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    cause_claim_id: Mapped[str | None] = mapped_column(String(36))
    cause_detail: Mapped[str | None] = mapped_column(Text)
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    conflict: Mapped[bool] = mapped_column(Boolean, nullable=False)

    __table_args__ = (Index(None, "topic", "position"),)


checkpoints_table = cast(Table, ProjectionCheckpoint.__table__)
articles_table = cast(Table, ArticleRow.__table__)
claims_table = cast(Table, ClaimRow.__table__)
status_changes_table = cast(Table, ClaimStatusChange.__table__)
topics_table = cast(Table, TopicRow.__table__)
history_table = cast(Table, FigureHistoryRow.__table__)

# A claim as the policy sees it: domain.figures.ClaimView's fields in order (its `position` is
# asserted_position). What the figures fold loads and the as-of reads select.
CLAIM_VIEW_COLUMNS = tuple(claims_table.c[name] for name in CLAIM_VIEW_NAMES)
