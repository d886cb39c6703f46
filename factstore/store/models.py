"""The stored shape of the log (SQLAlchemy 2 typed models). Alembic migrations own the schema;
these models are what autogenerate compares against.

`data` and `metadata` are stored as canonical JSON *text*: the stored bytes are exactly the bytes
that were hashed, on every backend, so verification never depends on how a database normalises
JSON. (On PostgreSQL, `data::jsonb` queries them when needed.)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite makes an INTEGER PRIMARY KEY the rowid itself (no second index); PostgreSQL needs 64 bits.
PositionType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StoredEvent(Base):
    """One row per event. Never updated or deleted: database triggers refuse both."""

    __tablename__ = "events"

    position: Mapped[int] = mapped_column(PositionType, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    stream_id: Mapped[str] = mapped_column(String(512), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    type: Mapped[str] = mapped_column(String(200), nullable=False)
    schema_version: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    meta: Mapped[str] = mapped_column("metadata", Text, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    log_hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (
        UniqueConstraint("event_id"),
        UniqueConstraint("stream_id", "version"),
        Index(None, "type", "position"),
        # known_at=<timestamp> queries find the last position recorded by then.
        Index(None, "recorded_at"),
    )


events_table = cast(Table, StoredEvent.__table__)
