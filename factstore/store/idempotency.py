"""Idempotency keys for write requests: the first response to (actor, key) is remembered and
replayed for a retry of the same request; the same key with a different request is refused.
These rows are request bookkeeping, not history: they expire (RETENTION) and may be deleted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, Table, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from factstore.store.event_store import EventStore
from factstore.store.models import Base

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 200


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    actor: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )


idempotency_table: Table = IdempotencyRecord.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status: int
    body: str


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def lookup(store: EventStore, actor: str, key: str) -> StoredResponse | None:
    t = idempotency_table.c
    oldest = datetime.now(UTC) - RETENTION
    with store.engine.connect() as conn:
        row = conn.execute(
            select(t.request_hash, t.status, t.body).where(
                t.actor == actor, t.key == key, t.created_at >= oldest
            )
        ).first()
    return None if row is None else StoredResponse(row[0], row[1], row[2])


def remember(store: EventStore, actor: str, key: str, hashed: str, status: int, body: str) -> None:
    """Keep the response; a concurrent first request with the same key keeps its own."""
    t = idempotency_table.c
    now = datetime.now(UTC)
    try:
        with store.engine.begin() as conn:
            conn.execute(delete(idempotency_table).where(t.created_at < now - RETENTION))
            conn.execute(delete(idempotency_table).where(t.actor == actor, t.key == key))
            conn.execute(
                idempotency_table.insert().values(
                    actor=actor,
                    key=key,
                    request_hash=hashed,
                    status=status,
                    body=body,
                    created_at=now,
                )
            )
    except IntegrityError:
        pass
