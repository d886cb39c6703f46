"""The event store: append-only streams in one globally ordered, hash-chained log.

How the global order stays gap-safe: every append takes one store-wide write lock for the length
of its transaction (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN IMMEDIATE, its
single writer lock) and assigns positions head+1, head+2, … under it. Positions therefore commit
in increasing order, so a follower reading `read_all(after=p)` can never see position p+2 before
p+1 has committed. The same lock is what lets each event chain to the previous one in the log.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select, text, tuple_

from factstore.domain.events import ExpectedVersion, NewEvent, RecordedEvent, StreamState
from factstore.store.database import SQLITE_BEGIN, backend_name
from factstore.store.errors import EventIdReused, InvalidEvent, WrongExpectedVersion
from factstore.store.hashing import GENESIS_HASH, canonical_json, event_hash, log_hash
from factstore.store.models import events_table as ev

# Any constant works; it only has to be the same for every writer of one database.
APPEND_LOCK_KEY = 0x46_61_63_74  # "Fact"
# Keeps IN (...) lists well under every backend's bound-parameter limit.
_ID_CHUNK = 500

_COLUMNS = (
    ev.c.event_id,
    ev.c.stream_id,
    ev.c.version,
    ev.c.position,
    ev.c.type,
    ev.c.schema_version,
    ev.c.data,
    ev.c.metadata,
    ev.c.recorded_at,
    ev.c.prev_hash,
    ev.c.hash,
    ev.c.log_hash,
)


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One stream's part of an append: its events and the version the writer expects it at."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: ExpectedVersion = StreamState.ANY


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: str
    events: tuple[RecordedEvent, ...]
    # False when every event was already stored (an idempotent retry): nothing was written.
    written: bool

    @property
    def version(self) -> int:
        return self.events[-1].version if self.events else 0


class EventStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = backend_name(engine.url)

    # --- writing -----------------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = StreamState.ANY,
    ) -> AppendResult:
        """Append events to one stream, all or nothing."""
        return self.append_batch([AppendRequest(stream_id, events, expected_version)])[0]

    def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """Append to many streams in one transaction (the bulk-load shape), all or nothing."""
        encoded = [_encode_request(request) for request in requests]
        ids = [e.event_id for request in encoded for e in request.events]
        if len(set(ids)) != len(ids):
            raise InvalidEvent("the same event id appears twice in one append")
        with self._write_transaction() as conn:
            return self._append_locked(conn, encoded)

    def _write_transaction(self) -> _WriteTransaction:
        return _WriteTransaction(self.engine, self.backend)

    def _append_locked(
        self, conn: Connection, requests: list[_EncodedRequest]
    ) -> list[AppendResult]:
        stored = self._stored_events_by_id(conn, [e.event_id for r in requests for e in r.events])
        heads = self._stream_heads(conn, {r.stream_id for r in requests if r.events})
        position, prev_log = self._log_head(conn)
        recorded_at = datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        results: list[AppendResult] = []
        for request in requests:
            retried = _check_retry(request, stored)
            if retried is not None:
                results.append(AppendResult(request.stream_id, retried, written=False))
                continue
            version, prev_hash = heads.get(request.stream_id, (0, GENESIS_HASH))
            _check_expected_version(request, version if request.stream_id in heads else None)
            recorded: list[RecordedEvent] = []
            for new in request.events:
                version += 1
                position += 1
                this_hash = event_hash(
                    prev_hash=prev_hash,
                    event_id=new.event_id,
                    stream_id=request.stream_id,
                    version=version,
                    position=position,
                    type=new.type,
                    schema_version=new.schema_version,
                    recorded_at=recorded_at,
                    data_json=new.data_json,
                    metadata_json=new.metadata_json,
                )
                prev_log = log_hash(prev_log, this_hash)
                rows.append(
                    {
                        "position": position,
                        "event_id": new.event_id,
                        "stream_id": request.stream_id,
                        "version": version,
                        "type": new.type,
                        "schema_version": new.schema_version,
                        "data": new.data_json,
                        "metadata": new.metadata_json,
                        "recorded_at": recorded_at,
                        "prev_hash": prev_hash,
                        "hash": this_hash,
                        "log_hash": prev_log,
                    }
                )
                recorded.append(
                    RecordedEvent(
                        event_id=new.event_id,
                        stream_id=request.stream_id,
                        version=version,
                        position=position,
                        type=new.type,
                        schema_version=new.schema_version,
                        data=new.data,
                        metadata=new.metadata,
                        recorded_at=recorded_at,
                        prev_hash=prev_hash,
                        hash=this_hash,
                        log_hash=prev_log,
                    )
                )
                prev_hash = this_hash
            heads[request.stream_id] = (version, prev_hash)
            results.append(AppendResult(request.stream_id, tuple(recorded), written=True))
        if rows:
            conn.execute(ev.insert(), rows)
        return results

    def _stored_events_by_id(
        self, conn: Connection, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, RecordedEvent]:
        found: dict[uuid.UUID, RecordedEvent] = {}
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            for row in conn.execute(select(*_COLUMNS).where(ev.c.event_id.in_(chunk))):
                event = _decode(row)
                found[event.event_id] = event
        return found

    def _stream_heads(self, conn: Connection, stream_ids: set[str]) -> dict[str, tuple[int, str]]:
        heads: dict[str, tuple[int, str]] = {}
        ordered = sorted(stream_ids)
        for start in range(0, len(ordered), _ID_CHUNK):
            chunk = ordered[start : start + _ID_CHUNK]
            latest = (
                select(ev.c.stream_id, func.max(ev.c.version).label("version"))
                .where(ev.c.stream_id.in_(chunk))
                .group_by(ev.c.stream_id)
                .subquery()
            )
            query = select(ev.c.stream_id, ev.c.version, ev.c.hash).where(
                tuple_(ev.c.stream_id, ev.c.version).in_(select(latest.c.stream_id, latest.c.version))
            )
            for stream_id, version, head_hash in conn.execute(query):
                heads[stream_id] = (version, head_hash)
        return heads

    @staticmethod
    def _log_head(conn: Connection) -> tuple[int, str]:
        row = conn.execute(
            select(ev.c.position, ev.c.log_hash).order_by(ev.c.position.desc()).limit(1)
        ).first()
        return (0, GENESIS_HASH) if row is None else (row[0], row[1])

    # --- reading -----------------------------------------------------------------------------

    def read_stream(
        self, stream_id: str, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """Events of one stream with from_version <= version <= to_version, in version order."""
        conditions = [ev.c.stream_id == stream_id, ev.c.version >= from_version]
        if to_version is not None:
            conditions.append(ev.c.version <= to_version)
        query = select(*_COLUMNS).where(and_(*conditions)).order_by(ev.c.version)
        with self.engine.connect() as conn:
            return [_decode(row) for row in conn.execute(query)]

    def stream_version(self, stream_id: str) -> int | None:
        """The stream's current version, or None when it does not exist."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.max(ev.c.version)).where(ev.c.stream_id == stream_id)
            ).scalar()

    def stream_versions(self, stream_ids: set[str]) -> dict[str, int]:
        """Current version of each of these streams that exists."""
        versions: dict[str, int] = {}
        ordered = sorted(stream_ids)
        with self.engine.connect() as conn:
            for start in range(0, len(ordered), _ID_CHUNK):
                query = (
                    select(ev.c.stream_id, func.max(ev.c.version))
                    .where(ev.c.stream_id.in_(ordered[start : start + _ID_CHUNK]))
                    .group_by(ev.c.stream_id)
                )
                versions.update({stream_id: version for stream_id, version in conn.execute(query)})
        return versions

    def last_event_of_types(self, stream_id: str, types: Sequence[str]) -> RecordedEvent | None:
        query = (
            select(*_COLUMNS)
            .where(ev.c.stream_id == stream_id, ev.c.type.in_(types))
            .order_by(ev.c.version.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _decode(row)

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """The global log: up to `limit` events with position > after_position, in order."""
        query = (
            select(*_COLUMNS)
            .where(ev.c.position > after_position)
            .order_by(ev.c.position)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_decode(row) for row in conn.execute(query)]

    def iter_all(self, after_position: int = 0, batch_size: int = 5000) -> Iterator[RecordedEvent]:
        """Every event after a position, fetched in batches (memory stays flat)."""
        while True:
            batch = self.read_all(after_position, batch_size)
            yield from batch
            if len(batch) < batch_size:
                return
            after_position = batch[-1].position

    def head_position(self) -> int:
        with self.engine.connect() as conn:
            return self._log_head(conn)[0]

    def head(self) -> tuple[int, str]:
        """(position, log hash) of the last event: the digest an auditor writes down."""
        with self.engine.connect() as conn:
            return self._log_head(conn)

    def log_hash_at(self, position: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(ev.c.log_hash).where(ev.c.position == position)
            ).scalar()


class _WriteTransaction:
    """A transaction that holds the store-wide append lock from its first statement."""

    def __init__(self, engine: Engine, backend: str) -> None:
        self._engine = engine
        self._backend = backend
        self._conn: Connection | None = None

    def __enter__(self) -> Connection:
        conn = self._engine.connect()
        if self._backend == "sqlite":
            conn = conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        conn.begin()
        if self._backend == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
        self._conn = conn
        return conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._conn is not None
        try:
            if exc_type is None:
                self._conn.commit()
            else:
                self._conn.rollback()
        finally:
            self._conn.close()


@dataclass(frozen=True, slots=True)
class _EncodedEvent:
    event_id: uuid.UUID
    type: str
    schema_version: int
    data: Mapping[str, Any]
    metadata: Mapping[str, Any]
    data_json: str
    metadata_json: str


@dataclass(frozen=True, slots=True)
class _EncodedRequest:
    stream_id: str
    events: tuple[_EncodedEvent, ...]
    expected_version: ExpectedVersion


def _encode_request(request: AppendRequest) -> _EncodedRequest:
    if not request.stream_id or len(request.stream_id) > 512:
        raise InvalidEvent("a stream id must be 1 to 512 characters")
    expected = request.expected_version
    if not isinstance(expected, StreamState) and (isinstance(expected, bool) or expected < 0):
        raise InvalidEvent(f"expected version must be a version >= 0 or a StreamState: {expected!r}")
    return _EncodedRequest(
        request.stream_id, tuple(_encode_event(e) for e in request.events), expected
    )


def _encode_event(event: NewEvent) -> _EncodedEvent:
    if not event.type or len(event.type) > 200:
        raise InvalidEvent("an event type must be 1 to 200 characters")
    try:
        data_json = canonical_json(event.data)
        metadata_json = canonical_json(event.metadata)
    except (TypeError, ValueError) as error:
        raise InvalidEvent(f"event {event.type!r} is not JSON-encodable: {error}") from error
    return _EncodedEvent(
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        data_json=data_json,
        metadata_json=metadata_json,
    )


def _check_retry(
    request: _EncodedRequest, stored: Mapping[uuid.UUID, RecordedEvent]
) -> tuple[RecordedEvent, ...] | None:
    """The stored events if this request is an identical retry; None if it is all new."""
    already = [stored.get(e.event_id) for e in request.events]
    if not any(already):
        return None
    for new, old in zip(request.events, already, strict=True):
        if old is None:
            raise EventIdReused(
                new.event_id, "batch: only part of this append was stored before"
            )
        if old.stream_id != request.stream_id:
            raise EventIdReused(new.event_id, f"stream ({old.stream_id!r})")
        if (old.type, old.schema_version) != (new.type, new.schema_version):
            raise EventIdReused(new.event_id, "type or schema version")
        if canonical_json(old.data) != new.data_json:
            raise EventIdReused(new.event_id, "data")
        if canonical_json(old.metadata) != new.metadata_json:
            raise EventIdReused(new.event_id, "metadata")
    return tuple(e for e in already if e is not None)


def _check_expected_version(request: _EncodedRequest, actual: int | None) -> None:
    expected = request.expected_version
    if expected is StreamState.ANY:
        return
    if expected is StreamState.NO_STREAM:
        if actual is not None:
            raise WrongExpectedVersion(request.stream_id, "no stream", actual)
        return
    if (actual or 0) != expected:
        raise WrongExpectedVersion(request.stream_id, f"version {expected}", actual)


def _decode(row: Any) -> RecordedEvent:
    recorded_at = row.recorded_at
    if recorded_at.tzinfo is None:  # SQLite keeps no zone; the store writes UTC only
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return RecordedEvent(
        event_id=row.event_id,
        stream_id=row.stream_id,
        version=row.version,
        position=row.position,
        type=row.type,
        schema_version=row.schema_version,
        data=json.loads(row.data),
        metadata=json.loads(row.metadata),
        recorded_at=recorded_at,
        prev_hash=row.prev_hash,
        hash=row.hash,
        log_hash=row.log_hash,
    )
