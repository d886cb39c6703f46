"""Running projections: read the log after a checkpoint, apply a batch, move the checkpoint, in
one transaction. A crash anywhere leaves rows and checkpoint together at the last commit, so
no event is lost or applied twice. One runner at a time advances a projection: the batch
transaction holds a lock per projection (PostgreSQL advisory lock; SQLite's single writer)."""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, Table, bindparam, delete, func, select, text

from factstore.domain.events import RecordedEvent
from factstore.projections.models import checkpoints_table as cp
from factstore.store.database import SQLITE_BEGIN
from factstore.store.event_store import EventStore
from factstore.store.models import events_table

log = logging.getLogger(__name__)


class Projection(Protocol):
    name: str
    tables: tuple[Table, ...]

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Apply events (in position order) to the projection's rows, using `conn` only."""


@dataclass(frozen=True, slots=True)
class Lag:
    name: str
    checkpoint: int
    head: int

    @property
    def lag(self) -> int:
        return self.head - self.checkpoint


def lock_key(name: str) -> int:
    return zlib.crc32(f"factstore.projection.{name}".encode())


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _LogReader:
    """The log up to its head at the start, in batches, on the rebuild's own connection (so the
    batches and the checkpoint come from one snapshot). With `types`, only events of those types
    are read: a projection that declares `event_types` ignores every other event anyway, and
    skipping them skips decoding article texts."""

    def __init__(
        self,
        store: EventStore,
        conn: Connection,
        batch_size: int,
        types: frozenset[str] | None,
    ) -> None:
        self.store = store
        self.conn = conn
        self.batch_size = batch_size
        e = events_table.c
        head = conn.execute(select(func.max(e.position))).scalar()
        self.head = int(head or 0)
        # Events in the log up to the head (positions have no gaps, but count to be sure).
        count = conn.execute(select(func.count()).where(e.position <= self.head)).scalar()
        self.covered = int(count or 0)
        columns = [e.event_id, e.stream_id, e.version, e.position, e.type, e.schema_version]
        columns += [e.data, e["metadata"], e.recorded_at, e.prev_hash, e.hash, e.log_hash]
        query = select(*columns).where(e.position > bindparam("after"), e.position <= self.head)
        if types is not None:
            query = query.where(e.type.in_(sorted(types)))
        self.query = query.order_by(e.position).limit(bindparam("limit"))

    def batches(self) -> Iterator[list[RecordedEvent]]:
        position = 0
        loads = json.loads
        while True:
            rows = self.conn.execute(self.query, {"after": position, "limit": self.batch_size})
            events = [
                RecordedEvent(eid, sid, ver, pos, typ, sv, loads(data), loads(meta), _utc(at), *h)
                for eid, sid, ver, pos, typ, sv, data, meta, at, *h in rows
            ]
            if not events:
                return
            position = events[-1].position
            yield events


class ProjectionRunner:
    def __init__(self, store: EventStore, projections: Sequence[Projection]) -> None:
        self.store = store
        self.projections = {p.name: p for p in projections}

    def _begin(self) -> Connection:
        conn = self.store.engine.connect()
        if self.store.backend == "sqlite":
            conn = conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        conn.begin()
        return conn

    def _lock(self, conn: Connection, name: str) -> None:
        if self.store.backend == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})

    @staticmethod
    def read_checkpoint(conn: Connection, name: str) -> int:
        value = conn.execute(select(cp.c.position).where(cp.c.name == name)).scalar()
        return int(value or 0)

    @staticmethod
    def write_checkpoint(conn: Connection, name: str, position: int) -> None:
        now = datetime.now(UTC)
        updated = conn.execute(
            cp.update().where(cp.c.name == name).values(position=position, updated_at=now)
        )
        if updated.rowcount == 0:
            conn.execute(cp.insert().values(name=name, position=position, updated_at=now))

    def step(self, name: str, batch_size: int = 2000) -> int:
        """Apply at most one batch to one projection; the number of events applied."""
        projection = self.projections[name]
        conn = self._begin()
        try:
            self._lock(conn, name)
            checkpoint = self.read_checkpoint(conn, name)
            events = self.store.read_all(checkpoint, batch_size)
            if events:
                projection.apply(conn, events)
                self.write_checkpoint(conn, name, events[-1].position)
            conn.commit()
            return len(events)
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def catch_up(self, names: Sequence[str] | None = None, batch_size: int = 2000) -> int:
        """Apply everything up to the head; the number of events applied."""
        total = 0
        for name in names or list(self.projections):
            while applied := self.step(name, batch_size):
                total += applied
        return total

    def rebuild(self, name: str, batch_size: int = 5000) -> int:
        """Drop the projection's rows and replay the whole log into them, in one transaction:
        readers see the old state until the new one is complete. A projection with a
        `rebuild(conn, batches)` method gets every batch in one call (it may keep state across
        them); others get `apply` per batch. A projection with `event_types` gets only events
        of those types. Returns the number of events in the log it covered."""
        projection = self.projections[name]
        conn = self._begin()
        try:
            self._lock(conn, name)
            for table in reversed(projection.tables):
                conn.execute(delete(table))
            types = getattr(projection, "event_types", None)
            read = _LogReader(self.store, conn, batch_size, types)
            whole = getattr(projection, "rebuild", None)
            if callable(whole):
                whole(conn, read.batches())
            else:
                for events in read.batches():
                    projection.apply(conn, events)
            self.write_checkpoint(conn, name, read.head)
            conn.commit()
            return read.covered
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def lags(self) -> list[Lag]:
        head = self.store.head_position()
        with self.store.engine.connect() as conn:
            return [Lag(name, self.read_checkpoint(conn, name), head) for name in self.projections]

    def follow(self, stop: threading.Event, poll_interval: float = 0.5) -> None:
        """Tail the log until `stop` is set."""
        while not stop.is_set():
            try:
                applied = self.catch_up()
            except Exception:  # a database restart must not end the follower
                log.exception("projection batch failed; retrying")
                applied = 0
            if not applied:
                stop.wait(poll_interval)
