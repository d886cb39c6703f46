"""The event store: append-only streams in one globally ordered, hash-chained log.

How the global order stays gap-safe: every append takes one store-wide write lock for the length
of its transaction (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN IMMEDIATE, its
single writer lock) and assigns positions head+1, head+2, … under it. Positions therefore commit
in increasing order, so a follower reading `read_all(after=p)` can never see position p+2 before
p+1 has committed. The same lock is what lets each event chain to the previous one in the log.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from json.scanner import make_scanner
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

from factstore.domain.events import ExpectedVersion, NewEvent, RecordedEvent, StreamState
from factstore.store.database import backend_name, write_gate
from factstore.store.errors import (
    EventIdReused,
    ImportRefused,
    InvalidEvent,
    StoreError,
    WrongExpectedVersion,
)
from factstore.store.hashing import (
    GENESIS_HASH,
    canonical_json,
    event_hash_of_parts,
    format_timestamp,
    json_string,
    log_hash,
    lone_surrogate_at,
)
from factstore.store.models import events_table as ev
from factstore.store.verification import LogChain

# Any constant works; it only has to be the same for every writer of one database.
APPEND_LOCK_KEY = 0x46_61_63_74  # "Fact"
# Keeps IN (...) lists well under every backend's bound-parameter limit.
_ID_CHUNK = 500
# Each POST asks it (built once: building costs more than running it).
_STREAM_VERSIONS = (
    select(ev.c.stream_id, func.max(ev.c.version))
    .where(ev.c.stream_id.in_(bindparam("ids", expanding=True)))
    .group_by(ev.c.stream_id)
)
# After a stale guess (another writer got in between), appends this many times the normal way.
_GUARD_BACKOFF = 32
# Stream heads remembered for the fast path (forgotten all at once beyond this).
_STREAM_HEADS_KEPT = 10_000
_UNIQUE_VIOLATION = "23505"

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
        self._sql = _Statements(self.backend)
        # PostgreSQL fast path (see _append_pg). Hints only: every use is checked under the lock.
        self._log_head_seen: tuple[int, str] | None = None
        self._stream_heads_seen: dict[str, tuple[int, str]] = {}
        self._guard_skip = 0

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
        with self._write_transaction() as transaction:
            if self.backend == "postgresql":
                return self._append_pg(transaction, encoded, ids)
            return self._append_sqlite(transaction, encoded, ids)

    def _write_transaction(self) -> _WriteTransaction:
        return _WriteTransaction(self.engine, self.backend)

    def _append_sqlite(
        self, transaction: _WriteTransaction, requests: list[_EncodedRequest], ids: list[uuid.UUID]
    ) -> list[AppendResult]:
        """Runs inside BEGIN IMMEDIATE (the append lock); the transaction commits on exit."""
        driver = transaction.driver
        stream_ids = sorted({r.stream_id for r in requests if r.events})
        with transaction.errors():
            stored, heads, (position, prev_log) = self._read_heads_sqlite(driver, ids, stream_ids)
            recorded_at = datetime.now(UTC)
            rows, results = self._chain(requests, stored, heads, position, prev_log, recorded_at)
            if rows:
                driver.executemany(self._sql.insert, rows)
        return results

    def _append_pg(
        self, transaction: _WriteTransaction, requests: list[_EncodedRequest], ids: list[uuid.UUID]
    ) -> list[AppendResult]:
        """PostgreSQL: the connection is in autocommit mode, so BEGIN and COMMIT travel in the
        pipelines with the statements (psycopg would otherwise sync BEGIN and COMMIT on their
        own round trips).

        Fast path, one round trip: BEGIN, the append lock, an INSERT guarded by the heads this
        store last saw, COMMIT. The guard is evaluated under the lock, so the rows go in only if
        the log head and every stream head are still exactly what the rows were chained to; if
        not, the INSERT writes nothing and the append takes the normal path. An event id that is
        already stored fails the INSERT (unique index) and also sends the append the normal way,
        where retries are recognised.

        Normal path, two round trips: BEGIN + lock + one read of everything the append depends on
        (stored ids, stream heads, log head); then INSERT + COMMIT.
        """
        driver = transaction.driver
        with transaction.errors():
            guess = self._guess_heads(requests)
            if guess is not None:
                results = self._append_pg_guarded(driver, requests, *guess)
                if results is not None:
                    return results
            stream_ids = sorted({r.stream_id for r in requests if r.events})
            stored, heads, (position, prev_log) = self._lock_and_read_heads_pg(
                driver, ids, stream_ids
            )
            recorded_at = datetime.now(UTC)
            rows, results = self._chain(requests, stored, heads, position, prev_log, recorded_at)
            with driver.pipeline():
                if rows:
                    columns = [list(column) for column in zip(*rows, strict=True)]
                    driver.execute(self._sql.insert_unnest, columns)
                driver.execute("COMMIT", prepare=False)
            self._remember_heads(rows, heads, position, prev_log)
        return results

    def import_log(self, events: Iterable[RecordedEvent], batch_size: int = 1000) -> int:
        """Write an exported log into this empty store exactly as it was recorded: the given
        positions, versions, event ids, timestamps and hashes (what `append` would compute
        instead). Every event must verify against the chains of the events before it, so only
        an intact log goes in. One transaction under the append lock: all or nothing, and no
        append can interleave. `events` is consumed as it is written (memory stays flat); an
        exception it raises rolls the whole import back. Returns the number of events written.
        """
        chain = LogChain()
        with self._write_transaction() as transaction:
            driver = transaction.driver
            with transaction.errors():
                if self.backend == "postgresql":
                    driver.execute("BEGIN", prepare=False)
                    driver.execute(self._sql.lock, (APPEND_LOCK_KEY,))
                if driver.execute(self._sql.log_head).fetchone() is not None:
                    raise ImportRefused("the target store is not empty: import needs an empty one")
                rows: list[tuple[Any, ...]] = []
                for event in events:
                    broken = chain.add(event)
                    if broken is not None:
                        raise ImportRefused(f"the imported log does not verify: {broken}")
                    rows.append(self._import_row(event))
                    if len(rows) >= batch_size:
                        self._insert_rows(driver, rows)
                        rows = []
                if rows:
                    self._insert_rows(driver, rows)
                if self.backend == "postgresql":
                    driver.execute("COMMIT", prepare=False)
        self._log_head_seen = None
        self._stream_heads_seen.clear()
        return chain.position

    def _import_row(self, event: RecordedEvent) -> tuple[Any, ...]:
        """An imported event as a row in the driver's terms (as _chain makes them)."""
        sqlite = self.backend == "sqlite"
        recorded_at = event.recorded_at.astimezone(UTC)
        return (
            event.position,
            event.event_id.hex if sqlite else event.event_id,
            event.stream_id,
            event.version,
            event.type,
            event.schema_version,
            canonical_json(event.data),
            canonical_json(event.metadata),
            recorded_at.strftime(_SQLITE_DATETIME_FORMAT) if sqlite else recorded_at,
            event.prev_hash,
            event.hash,
            event.log_hash,
        )

    def _insert_rows(self, driver: Any, rows: list[tuple[Any, ...]]) -> None:
        if self.backend == "sqlite":
            driver.executemany(self._sql.insert, rows)
        else:
            driver.execute(self._sql.insert_unnest, [list(c) for c in zip(*rows, strict=True)])

    def _guess_heads(
        self, requests: list[_EncodedRequest]
    ) -> tuple[tuple[int, str], dict[str, tuple[int, str]]] | None:
        """The heads an append would read, if this store can tell them without asking: the log
        head it last wrote or read, and per stream either "new" (NO_STREAM) or the head it last
        wrote (when that head agrees with the expected version). None: ask the database."""
        if self._guard_skip:
            self._guard_skip -= 1
            return None
        log_head = self._log_head_seen
        if log_head is None:
            return None
        heads: dict[str, tuple[int, str]] = {}
        for request in requests:
            if not request.events or request.stream_id in heads:
                return None
            expected = request.expected_version
            if expected is StreamState.NO_STREAM:
                heads[request.stream_id] = (0, GENESIS_HASH)
                continue
            known = self._stream_heads_seen.get(request.stream_id)
            if known is None or (expected is not StreamState.ANY and expected != known[0]):
                return None
            heads[request.stream_id] = known
        return log_head, heads

    def _append_pg_guarded(
        self,
        driver: Any,
        requests: list[_EncodedRequest],
        log_head: tuple[int, str],
        guessed: dict[str, tuple[int, str]],
    ) -> list[AppendResult] | None:
        """The fast path: the results, or None when the guess was stale (nothing was written)."""
        # _chain knows a new stream by its absence from heads.
        heads = {stream_id: head for stream_id, head in guessed.items() if head[0]}
        position, prev_log = log_head
        recorded_at = datetime.now(UTC)
        try:
            rows, results = self._chain(requests, {}, heads, position, prev_log, recorded_at)
        except StoreError:
            return None  # the normal path decides from what is actually stored
        columns = [list(column) for column in zip(*rows, strict=True)]
        stream_ids = list(guessed)
        try:
            with driver.pipeline():
                driver.execute("BEGIN", prepare=False)
                driver.execute(self._sql.lock, (APPEND_LOCK_KEY,))
                cursor = driver.execute(
                    self._sql.insert_guarded,
                    (
                        *columns,
                        position,
                        prev_log,
                        stream_ids,
                        [guessed[s][0] for s in stream_ids],
                        [guessed[s][1] for s in stream_ids],
                    ),
                )
                driver.execute("COMMIT", prepare=False)
        except self.engine.dialect.loaded_dbapi.Error as error:
            if getattr(error, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
            # Only event_id can collide (the guard checked positions and versions under the
            # lock): a retry, or a reused id. The normal path tells which.
            driver.rollback()
            self._guard_skip = _GUARD_BACKOFF
            return None
        if cursor.rowcount != len(rows):
            self._guard_skip = _GUARD_BACKOFF
            return None
        self._remember_heads(rows, heads, position, prev_log)
        return results

    def _remember_heads(
        self,
        rows: list[tuple[Any, ...]],
        heads: dict[str, tuple[int, str]],
        position: int,
        prev_log: str,
    ) -> None:
        """After a commit: the heads the next append will most likely find (PostgreSQL)."""
        self._log_head_seen = (rows[-1][0], rows[-1][11]) if rows else (position, prev_log)
        seen = self._stream_heads_seen
        if len(seen) + len(heads) > _STREAM_HEADS_KEPT:
            seen.clear()
        seen.update(heads)

    def _chain(
        self,
        requests: list[_EncodedRequest],
        stored: Mapping[uuid.UUID, RecordedEvent],
        heads: dict[str, tuple[int, str]],
        position: int,
        prev_log: str,
        recorded_at: datetime,
    ) -> tuple[list[tuple[Any, ...]], list[AppendResult]]:
        """Versions, positions and both hash chains of the new events, as rows and results."""
        timestamp_text = format_timestamp(recorded_at)
        # What the driver is given for recorded_at and event_id: SQLite stores both as text, in
        # the formats SQLAlchemy's DateTime and Uuid types use there; psycopg takes the objects.
        stored_at: Any = recorded_at
        sqlite = self.backend == "sqlite"
        if sqlite:
            stored_at = recorded_at.strftime(_SQLITE_DATETIME_FORMAT)
        type_json: dict[str, str] = {}
        rows: list[tuple[Any, ...]] = []
        results: list[AppendResult] = []
        for request in requests:
            retried = _check_retry(request, stored) if stored else None
            if retried is not None:
                results.append(AppendResult(request.stream_id, retried, written=False))
                continue
            stream_id = request.stream_id
            known = heads.get(stream_id)
            _check_expected_version(request, None if known is None else known[0])
            version, prev_hash = (0, GENESIS_HASH) if known is None else known
            stream_json = json_string(stream_id)
            recorded: list[RecordedEvent] = []
            for new in request.events:
                version += 1
                position += 1
                event_type = new.type
                this_type_json = type_json.get(event_type)
                if this_type_json is None:
                    this_type_json = type_json[event_type] = json_string(event_type)
                event_id = new.event_id
                this_hash = event_hash_of_parts(
                    prev_hash,
                    str(event_id),
                    stream_json,
                    version,
                    position,
                    this_type_json,
                    new.schema_version,
                    timestamp_text,
                    new.data_json,
                    new.metadata_json,
                )
                prev_log = log_hash(prev_log, this_hash)
                rows.append(
                    (
                        position,
                        event_id.hex if sqlite else event_id,
                        stream_id,
                        version,
                        event_type,
                        new.schema_version,
                        new.data_json,
                        new.metadata_json,
                        stored_at,
                        prev_hash,
                        this_hash,
                        prev_log,
                    )
                )
                recorded.append(
                    RecordedEvent(
                        event_id,
                        stream_id,
                        version,
                        position,
                        event_type,
                        new.schema_version,
                        new.data,
                        new.metadata,
                        recorded_at,
                        prev_hash,
                        this_hash,
                        prev_log,
                    )
                )
                prev_hash = this_hash
            heads[stream_id] = (version, prev_hash)
            results.append(AppendResult(stream_id, tuple(recorded), written=True))
        return rows, results

    def _lock_and_read_heads_pg(
        self, driver: Any, ids: list[uuid.UUID], stream_ids: list[str]
    ) -> tuple[dict[uuid.UUID, RecordedEvent], dict[str, tuple[int, str]], tuple[int, str]]:
        """Take the append lock, then read what the append depends on: one round trip.

        The statements are pipelined but still run one after the other, so under READ COMMITTED
        each read's snapshot is taken after the lock is held.
        """
        with driver.pipeline():
            driver.execute("BEGIN", prepare=False)
            driver.execute(self._sql.lock, (APPEND_LOCK_KEY,))
            cursor = driver.execute(self._sql.heads_pg, (ids, stream_ids))
        # Rows: (kind, *_SELECT_COLUMNS); kind 1 = a stored event with one of these ids,
        # 2 = the last event of one of these streams, 3 = the last event of the log.
        rows = cursor.fetchall()
        found = {e.event_id: e for e in self._decode_rows([r[1:] for r in rows if r[0] == 1])}
        latest = {r[2]: (r[3], r[11]) for r in rows if r[0] == 2}
        head = [(r[4], r[12]) for r in rows if r[0] == 3]
        return found, latest, head[0] if head else (0, GENESIS_HASH)

    def _read_heads_sqlite(
        self, driver: Any, ids: list[uuid.UUID], stream_ids: list[str]
    ) -> tuple[dict[uuid.UUID, RecordedEvent], dict[str, tuple[int, str]], tuple[int, str]]:
        sql = self._sql
        found: dict[uuid.UUID, RecordedEvent] = {}
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = [i.hex for i in ids[start : start + _ID_CHUNK]]
            rows = driver.execute(sql.stored_by_ids_sqlite(len(chunk)), chunk).fetchall()
            found.update((event.event_id, event) for event in self._decode_rows(rows))
        latest: dict[str, tuple[int, str]] = {}
        for start in range(0, len(stream_ids), _ID_CHUNK):
            chunk_ids = stream_ids[start : start + _ID_CHUNK]
            for stream_id, version, hash_ in driver.execute(
                sql.stream_heads_sqlite(len(chunk_ids)), chunk_ids
            ):
                latest[stream_id] = (version, hash_)
        row = driver.execute(sql.log_head).fetchone()
        return found, latest, (0, GENESIS_HASH) if row is None else (row[0], row[1])

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
        if to_version is None:
            return self._select(self._sql.read_stream, (stream_id, from_version))
        return self._select(self._sql.read_stream_to, (stream_id, from_version, to_version))

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
                chunk = {"ids": ordered[start : start + _ID_CHUNK]}
                versions.update(conn.execute(_STREAM_VERSIONS, chunk).tuples().all())
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

    def read_all(
        self, after_position: int = 0, limit: int = 1000, conn: Connection | None = None
    ) -> list[RecordedEvent]:
        """The global log: up to `limit` events with position > after_position, in order; on
        `conn`, in its transaction, when given (a projection step reads what it applies on the
        connection it writes with: no second connection, no second transaction)."""
        return self._select(self._sql.read_all, (after_position, limit), conn)

    def iter_all(self, after_position: int = 0, batch_size: int = 5000) -> Iterator[RecordedEvent]:
        """Every event after a position, fetched in batches (memory stays flat)."""
        while True:
            batch = self.read_all(after_position, batch_size)
            yield from batch
            if len(batch) < batch_size:
                return
            after_position = batch[-1].position

    def head_position(self, conn: Connection | None = None) -> int:
        """The last position in the log (0 when empty); on `conn` when given."""
        if conn is not None:
            return self._log_head(conn)[0]
        with self.engine.connect() as own:
            return self._log_head(own)[0]

    def head(self) -> tuple[int, str]:
        """(position, log hash) of the last event: the digest an auditor writes down."""
        with self.engine.connect() as conn:
            return self._log_head(conn)

    def log_hash_at(self, position: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(ev.c.log_hash).where(ev.c.position == position)).scalar()

    def _select(
        self, sql: str, params: tuple[Any, ...], conn: Connection | None = None
    ) -> list[RecordedEvent]:
        """Run a read straight on the driver (no per-row SQLAlchemy processing) and decode."""
        if conn is not None:
            return self._decode_rows(_fetch_all(self.engine, conn.connection, sql, params))
        raw = self.engine.raw_connection()
        try:
            rows = _fetch_all(self.engine, raw, sql, params)
        finally:
            raw.close()  # the pool ends the read transaction (rollback)
        return self._decode_rows(rows)

    def _decode_rows(self, rows: Sequence[Sequence[Any]]) -> list[RecordedEvent]:
        """Driver rows of _SELECT_COLUMNS -> events: the values _decode gets through SQLAlchemy."""
        loads = _load_json
        events: list[RecordedEvent] = []
        append = events.append
        if self.backend == "sqlite":
            # event_id is stored as 32 hex digits, recorded_at as naive UTC text; one append shares
            # one timestamp, so consecutive rows mostly repeat it.
            to_uuid = uuid.UUID
            last_text: str | None = None
            last_time = _EPOCH
            for eid, sid, ver, pos, typ, sv, data, meta, at, prev, hsh, lhsh in rows:
                if at != last_text:
                    last_text, last_time = at, _parse_sqlite_datetime(at)
                append(
                    RecordedEvent(
                        to_uuid(eid),
                        sid,
                        ver,
                        pos,
                        typ,
                        sv,
                        loads(data),
                        loads(meta),
                        last_time,
                        prev,
                        hsh,
                        lhsh,
                    )
                )
            return events
        for eid, sid, ver, pos, typ, sv, data, meta, at, prev, hsh, lhsh in rows:
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            append(
                RecordedEvent(
                    eid, sid, ver, pos, typ, sv, loads(data), loads(meta), at, prev, hsh, lhsh
                )
            )
        return events


_SELECT_COLUMNS = (
    "event_id, stream_id, version, position, type, schema_version, data, metadata, recorded_at, "
    "prev_hash, hash, log_hash"
)
_INSERT_COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, "
    "prev_hash, hash, log_hash"
)
# SQLAlchemy's storage format for DateTime on SQLite (what the table has always held).
_SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# json's C scanner called directly: json.loads adds two regex matches (leading and trailing
# whitespace) and two Python calls around it, ~40 % of decoding a stored event's JSON.
# (typeshed's stub says the argument is another scanner; CPython takes the decoder.)
_scan_json: Callable[[str, int], tuple[Any, int]] = make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]
)


def _load_json(text: str) -> Any:
    """json.loads(text) for the canonical JSON the store writes; anything else (whitespace,
    trailing data, invalid JSON) goes through json.loads itself, with its errors."""
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def _parse_sqlite_datetime(text_value: str) -> datetime:
    moment = datetime.fromisoformat(text_value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class _Statements:
    """The hot-path SQL, written once per backend in its driver's parameter style."""

    def __init__(self, backend: str) -> None:
        p = "?" if backend == "sqlite" else "%s"
        self.insert = f"INSERT INTO events ({_INSERT_COLUMNS}) VALUES ({', '.join([p] * 12)})"
        self.log_head = "SELECT position, log_hash FROM events ORDER BY position DESC LIMIT 1"
        self.read_all = (
            f"SELECT {_SELECT_COLUMNS} FROM events WHERE position > {p} ORDER BY position LIMIT {p}"
        )
        self.read_stream = (
            f"SELECT {_SELECT_COLUMNS} FROM events WHERE stream_id = {p} AND version >= {p} "
            "ORDER BY version"
        )
        self.read_stream_to = (
            f"SELECT {_SELECT_COLUMNS} FROM events "
            f"WHERE stream_id = {p} AND version >= {p} AND version <= {p} ORDER BY version"
        )
        # PostgreSQL only: arrays instead of IN lists, one index probe per stream for its head.
        # Arrays go in binary (%b): psycopg's text format escapes every element with a regex,
        # which on JSON text (full of quotes) cost more than the rest of an append.
        self.lock = "SELECT pg_advisory_xact_lock(%s)"
        self.heads_pg = (
            "SELECT 1, f.* FROM unnest(%b::uuid[]) AS i(id) CROSS JOIN LATERAL "
            f"(SELECT {_SELECT_COLUMNS} FROM events e WHERE e.event_id = i.id LIMIT 1) AS f "
            f"UNION ALL SELECT 2, h.* FROM unnest(%b::text[]) AS s(id) CROSS JOIN LATERAL "
            f"(SELECT {_SELECT_COLUMNS} FROM events e WHERE e.stream_id = s.id "
            "ORDER BY e.version DESC LIMIT 1) AS h "
            f"UNION ALL (SELECT 3, {_SELECT_COLUMNS} FROM events ORDER BY position DESC LIMIT 1)"
        )
        self.insert_unnest = (
            f"INSERT INTO events ({_INSERT_COLUMNS}) SELECT * FROM unnest("
            "%b::bigint[], %b::uuid[], %b::text[], %b::integer[], %b::text[], %b::smallint[], "
            "%b::text[], %b::text[], %b::timestamptz[], %b::text[], %b::text[], %b::text[])"
        )
        # The same rows, inserted only if the log head is (position, log_hash) and every listed
        # stream's head is (version, hash), version 0 / GENESIS_HASH meaning "no such stream".
        # Uncorrelated subqueries: evaluated once, each an index probe in any plan.
        self.insert_guarded = (
            f"{self.insert_unnest} WHERE "
            "coalesce((SELECT max(position) FROM events), 0) = %s::bigint "
            "AND coalesce((SELECT log_hash FROM events ORDER BY position DESC LIMIT 1), "
            f"'{GENESIS_HASH}') = %s::text "
            "AND NOT EXISTS (SELECT FROM unnest(%b::text[], %b::integer[], %b::text[]) "
            "AS g(stream_id, version, hash) LEFT JOIN LATERAL (SELECT e.version, e.hash "
            "FROM events e WHERE e.stream_id = g.stream_id ORDER BY e.version DESC LIMIT 1) AS c "
            f"ON true WHERE coalesce(c.version, 0) <> g.version "
            f"OR coalesce(c.hash, '{GENESIS_HASH}') <> g.hash)"
        )

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def stored_by_ids_sqlite(count: int) -> str:
        marks = ", ".join("?" * count)
        return f"SELECT {_SELECT_COLUMNS} FROM events WHERE event_id IN ({marks})"

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def stream_heads_sqlite(count: int) -> str:
        # SQLite documents that a bare column next to max() comes from the row holding the max.
        marks = ", ".join("?" * count)
        return (
            "SELECT stream_id, max(version), hash FROM events "
            f"WHERE stream_id IN ({marks}) GROUP BY stream_id"
        )


def _fetch_all(
    engine: Engine, raw: PoolProxiedConnection, sql: str, params: tuple[Any, ...]
) -> list[Any]:
    with _driver_errors(engine, raw):
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            rows: list[Any] = cursor.fetchall()
        finally:
            cursor.close()
    return rows


@contextmanager
def _driver_errors(engine: Engine, raw: PoolProxiedConnection) -> Iterator[None]:
    """Driver exceptions from work on the raw connection, wrapped the way SQLAlchemy wraps its own
    (sqlalchemy.exc.IntegrityError, OperationalError, …); a dropped connection leaves the pool."""
    dialect = engine.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        disconnected = _lost_connection(dialect, raw, error)
        if disconnected:
            raw.invalidate(error)
        raise DBAPIError.instance(
            None,
            None,
            error,
            dbapi_error,
            connection_invalidated=disconnected,
            dialect=dialect,
        ) from error


# SQLSTATE classes of a lost connection: 08 connection exception, 57P01-03 server shutdown.
_CONNECTION_LOST_STATES = ("08", "57P")


def _lost_connection(dialect: Any, raw: PoolProxiedConnection, error: BaseException) -> bool:
    """Whether the error means the connection is gone (it must not go back to the pool). A cut
    inside a psycopg pipeline surfaces as "cannot exit pipeline mode while busy", which the
    dialect does not recognise; the server's shutdown error is its context."""
    driver = raw.driver_connection
    if getattr(driver, "broken", False) or getattr(driver, "closed", False):
        return True
    seen: BaseException | None = error
    while seen is not None:
        sqlstate = getattr(seen, "sqlstate", None) or ""
        if sqlstate.startswith(_CONNECTION_LOST_STATES):
            return True
        if isinstance(seen, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
            seen, raw.dbapi_connection, None
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _WriteTransaction:
    """A transaction on a pooled driver connection that holds the store-wide append lock before
    it reads anything.

    SQLite: BEGIN IMMEDIATE takes it here. PostgreSQL: the advisory lock is the first statement of
    the pipeline in `_lock_and_read_heads_pg`, ahead of every read.
    """

    def __init__(self, engine: Engine, backend: str) -> None:
        self._engine = engine
        self._backend = backend
        self._gate = write_gate(engine)
        self._raw: PoolProxiedConnection | None = None
        self.driver: Any = None

    def errors(self) -> AbstractContextManager[None]:
        assert self._raw is not None
        return _driver_errors(self._engine, self._raw)

    def __enter__(self) -> _WriteTransaction:
        self._gate.__enter__()
        try:
            self._raw = self._engine.raw_connection()
        except BaseException:
            self._gate.__exit__(None, None, None)
            raise
        self.driver = self._raw.driver_connection
        try:
            with self.errors():
                if self._backend == "sqlite":
                    self.driver.execute("BEGIN IMMEDIATE")
                else:
                    # BEGIN/COMMIT are sent by the append itself, inside its pipelines.
                    self.driver.autocommit = True
        except BaseException:
            self._raw.close()
            self._gate.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._raw is not None
        try:
            if self._raw.dbapi_connection is None:  # invalidated (the server went away)
                self._raw.close()
                return
            try:
                with self.errors():
                    if exc_type is not None:
                        self.driver.rollback()  # a no-op when no transaction is open
                    elif self._backend == "sqlite":
                        self.driver.commit()
                    if self._backend == "postgresql":
                        self.driver.autocommit = False  # the pool's state for everyone else
            finally:
                self._raw.close()
        finally:
            self._gate.__exit__(None, None, None)


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
    _require_unicode(request.stream_id, "the stream id")
    expected = request.expected_version
    if not isinstance(expected, StreamState) and (isinstance(expected, bool) or expected < 0):
        raise InvalidEvent(
            f"expected version must be a version >= 0 or a StreamState: {expected!r}"
        )
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
    _require_unicode(event.type, "an event type")
    _require_unicode(data_json, f"the data of event {event.type!r}")
    _require_unicode(metadata_json, f"the metadata of event {event.type!r}")
    return _EncodedEvent(
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        data_json=data_json,
        metadata_json=metadata_json,
    )


def _require_unicode(text: str, what: str) -> None:
    at = lone_surrogate_at(text)
    if at is not None:
        raise InvalidEvent(
            f"{what} is not Unicode text: a lone surrogate {text[at]!a} at character {at}"
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
            raise EventIdReused(new.event_id, "batch: only part of this append was stored before")
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
