"""Bookkeeping tables of ingestion. Not events, and not the record: what a source delivered last
time (to tell a removed file or a 404 from an article never seen) with the HTTP validators for
conditional GETs, and the scheduler's heartbeat. Losing them costs one full re-read, nothing more:
every decision is checked against the log (the content hash stored in the article's events)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import DateTime, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from factstore.store.models import Base


class SourceItem(Base):
    """One article as last seen in one source."""

    __tablename__ = "source_items"

    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    url: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # present | withdrawn
    # When the row last changed (first seen, new validators, withdrawn).
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class SchedulerHeartbeat(Base):
    """One row per scheduler process, rewritten every few seconds (GET /v1/health reads it)."""

    __tablename__ = "scheduler_heartbeats"

    instance: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)  # leader | standby | stopped
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    host: Mapped[str] = mapped_column(String(200), nullable=False)
    jobs: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


source_items_table = cast(Table, SourceItem.__table__)
heartbeats_table = cast(Table, SchedulerHeartbeat.__table__)
