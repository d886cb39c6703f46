"""Running projections: read the log after a checkpoint, apply a batch, move the checkpoint, in
one transaction. A crash anywhere leaves rows and checkpoint together at the last commit, so
no event is lost or applied twice. One runner at a time advances a projection: the batch
transaction holds a lock per projection (PostgreSQL advisory lock; SQLite's single writer)."""

from __future__ import annotations

import functools
import gc
import heapq
import itertools
import json
import logging
import operator
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from json.scanner import make_scanner
from typing import Any, Protocol

from sqlalchemy import Connection, Table, TextClause, bindparam, delete, func, select, text
from sqlalchemy.exc import DBAPIError

from factstore.domain.events import RecordedEvent
from factstore.projections.models import checkpoints_table as cp
from factstore.store.database import SQLITE_BEGIN, write_gate
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


def visible_position(conn: Connection, names: Sequence[str]) -> int:
    """The log position a reader on `conn` sees everything up to: the log's head, or the
    checkpoint of the furthest-behind of the projections `names` when one lags. On a replica
    this is how far replay has come; reads through `conn` reflect at least this position."""
    wanted = tuple(sorted(set(names)))
    head, found, lowest = conn.execute(
        _visible_position_sql(wanted), {f"n{i}": name for i, name in enumerate(wanted)}
    ).one()
    # A projection without a checkpoint row has applied nothing.
    checkpoint = 0 if found < len(wanted) else int(lowest)
    return min(int(head or 0), checkpoint) if wanted else int(head or 0)


@functools.lru_cache(maxsize=32)
def _visible_position_sql(names: tuple[str, ...]) -> TextClause:
    # Every read asks this (api.consistency): one statement, and a text one, whose cache key
    # costs nothing to compute, instead of two built and keyed per request.
    marks = ", ".join(f":n{i}" for i in range(len(names))) or "NULL"
    return text(
        "SELECT (SELECT max(position) FROM events), count(*), min(position) "
        f"FROM projection_checkpoints WHERE name IN ({marks})"
    )


def lock_key(name: str) -> int:
    return zlib.crc32(f"factstore.projection.{name}".encode())


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# A rebuild's event as read, without building a RecordedEvent: (event_id as the driver gives it
# (SQLite: 32 hex digits, PostgreSQL: a UUID), stream_id, position, type, schema_version, data and
# metadata as stored (canonical JSON text: `data` is the text the event hash covers), recorded_at
# (aware datetime, one object per append)), version (in its stream).
LogRow = tuple[Any, str, int, str, int, str, str, datetime, int]
_POSITION = 2
_RECORDED_AT = 7


class _LogReader:
    """The log up to its head at the start, in batches, on the rebuild's own connection (so the
    batches and the checkpoint come from one snapshot). With `types`, only events of those types
    are read: a projection that declares `event_types` ignores every other event anyway, and
    skipping them skips decoding article texts.

    Reads run on the transaction's driver connection with precompiled SQL (no per-row SQLAlchemy
    processing), as `EventStore` reads do. `rows` yields what a projection's `rebuild` folds
    (`LogRow`s: no JSON decoded, nothing built per event); `events` yields RecordedEvents for
    `apply`."""

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
        # SQLite: the rebuild's IMMEDIATE transaction keeps writers out, so that is every row,
        # and a count without a range reads a small index instead of the whole table.
        everything = select(func.count()).select_from(events_table)
        count = conn.execute(
            everything if store.backend == "sqlite" else everything.where(e.position <= self.head)
        ).scalar()
        self.covered = int(count or 0)
        self.sqlite = store.backend == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self.types: list[str | None] = [*sorted(types)] if types is not None else [None]
        self.where = {
            typ: (
                f"position > {mark} AND position <= {mark}"
                f"{'' if typ is None else f' AND type = {mark}'} ORDER BY position LIMIT {mark}"
            )
            for typ in self.types
        }

    def _rows(self, typ: str | None, columns: str) -> Iterator[Any]:
        """The rows (of one type), in position order, a page at a time. One query per type
        walks the (type, position) index in order; one query over all the types would sort every
        remaining row of them for each page. `columns` starts with event_id, stream_id,
        position."""
        sql = f"SELECT {columns} FROM events WHERE {self.where[typ]}"
        after = 0
        driver = self.conn.connection.driver_connection
        while True:
            params: tuple[Any, ...] = (after, self.head, self.batch_size)
            if typ is not None:
                params = (after, self.head, typ, self.batch_size)
            with driver_errors(self.conn):
                cursor = driver.cursor()  # type: ignore[union-attr]
                try:
                    cursor.execute(sql, params)
                    rows: list[Any] = cursor.fetchall()
                finally:
                    cursor.close()
            yield from rows
            if len(rows) < self.batch_size:
                return
            after = rows[-1][_POSITION]

    def _batches(self, columns: str, at: int) -> Iterator[list[Any]]:
        """Driver rows of the types read, merged by position, in batches that end where an
        append ended (see ProjectionRunner.step); `at` is the index of recorded_at."""
        merged = heapq.merge(
            *(self._rows(typ, columns) for typ in self.types), key=operator.itemgetter(_POSITION)
        )
        pending: list[Any] = []
        while True:
            rows = pending + list(itertools.islice(merged, self.batch_size - len(pending)))
            if not rows:
                return
            pending = []
            for row in merged:
                if row[at] != rows[-1][at]:
                    pending = [row]
                    break
                rows.append(row)
            yield rows

    def rows(self) -> Iterator[list[LogRow]]:
        """Batches of `LogRow`s."""
        last_at: Any = None
        moment = _EPOCH
        sqlite = self.sqlite
        columns = (
            "event_id, stream_id, position, type, schema_version, data, metadata, recorded_at, "
            "version"
        )
        for rows in self._batches(columns, _RECORDED_AT):
            batch: list[LogRow] = []
            append = batch.append
            for eid, sid, pos, typ, sv, data, meta, at, ver in rows:
                if at != last_at:  # one append shares one timestamp
                    last_at = at
                    moment = _utc(datetime.fromisoformat(at) if sqlite else at)
                append((eid, sid, pos, typ, sv, data, meta, moment, ver))
            yield batch

    def events(self) -> Iterator[list[RecordedEvent]]:
        """Batches of RecordedEvents."""
        loads = load_json
        to_uuid = uuid.UUID
        last_at: Any = None
        moment = _EPOCH
        columns = (
            "event_id, stream_id, position, version, type, schema_version, data, metadata, "
            "recorded_at, prev_hash, hash, log_hash"
        )
        for rows in self._batches(columns, 8):  # recorded_at is the 9th column
            events: list[RecordedEvent] = []
            append = events.append
            for eid, sid, pos, ver, typ, sv, data, meta, at, prev, hsh, lhsh in rows:
                if at != last_at:
                    last_at = at
                    moment = _utc(datetime.fromisoformat(at) if self.sqlite else at)
                append(
                    RecordedEvent(
                        to_uuid(eid) if self.sqlite else eid,
                        sid,
                        ver,
                        pos,
                        typ,
                        sv,
                        loads(data),
                        loads(meta),
                        moment,
                        prev,
                        hsh,
                        lhsh,
                    )
                )
            yield events


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# json's C scanner called directly (json.loads adds two regex matches and two Python calls).
_scan_json: Callable[[str, int], tuple[Any, int]] = make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]
)


def load_json(text: str) -> Any:
    """json.loads(text), faster for the canonical JSON the store writes."""
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


@contextmanager
def driver_errors(conn: Connection) -> Iterator[None]:
    """Driver exceptions from work on `conn`'s driver connection, wrapped the way SQLAlchemy
    wraps its own (sqlalchemy.exc.IntegrityError, OperationalError, ...)."""
    dialect = conn.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        raise DBAPIError.instance(None, None, error, dbapi_error, dialect=dialect) from error


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector off for a rebuild: the rebuild keeps every topic in memory,
    and each full collection would walk all of it (most of the slowdown from 100k to 1M events).
    The rebuild's objects hold no reference cycles worth collecting early."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Every step of every projection reads and moves its checkpoint, inline in each POST too:
# statements built once (building one costs more than running it on SQLite).
_READ_CHECKPOINT = select(cp.c.position).where(cp.c.name == bindparam("b_name"))
_UPDATE_CHECKPOINT = (
    cp.update()
    .where(cp.c.name == bindparam("b_name"))
    .values(position=bindparam("b_position"), updated_at=bindparam("b_updated_at"))
)
_INSERT_CHECKPOINT = cp.insert().values(
    name=bindparam("b_name"),
    position=bindparam("b_position"),
    updated_at=bindparam("b_updated_at"),
)


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
        value = conn.execute(_READ_CHECKPOINT, {"b_name": name}).scalar()
        return int(value or 0)

    @staticmethod
    def write_checkpoint(conn: Connection, name: str, position: int) -> None:
        values = {"b_name": name, "b_position": position, "b_updated_at": datetime.now(UTC)}
        if conn.execute(_UPDATE_CHECKPOINT, values).rowcount == 0:
            conn.execute(_INSERT_CHECKPOINT, values)

    def step(self, name: str, batch_size: int = 2000) -> int:
        """Apply at most one batch to one projection; the number of events applied."""
        with write_gate(self.store.engine):
            return self._step_together([name], batch_size)[name]

    def _step_together(self, names: Sequence[str], batch_size: int) -> dict[str, int]:
        """At most one batch for each projection, all in one transaction (one commit: inline,
        every POST brings two projections up to date); the events each one applied."""
        conn = self._begin()
        try:
            applied: dict[str, list[RecordedEvent]] = {}
            # By checkpoint: inline, every projection starts where the last write left them all.
            batches: dict[int, list[RecordedEvent]] = {}
            for name in names:  # always in the runner's order: its advisory locks never cross
                self._lock(conn, name)
                checkpoint = self.read_checkpoint(conn, name)
                events = batches.get(checkpoint)
                if events is None:
                    events = batches[checkpoint] = self._whole_appends(
                        conn, self.store.read_all(checkpoint, batch_size, conn), batch_size
                    )
                if events:
                    self.projections[name].apply(conn, events)
                    self.write_checkpoint(conn, name, events[-1].position)
                applied[name] = events
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()
        for name, events in applied.items():
            if events:
                # Operators (and the multi-follower test) see who applied which positions.
                log.info("%s: applied %d..%d", name, events[0].position, events[-1].position)
        return {name: len(events) for name, events in applied.items()}

    def _whole_appends(
        self, conn: Connection, events: list[RecordedEvent], batch_size: int
    ) -> list[RecordedEvent]:
        """The batch, extended so that it does not end inside an append. The events of one
        append (one transaction: they share one timestamp) are one change to a projection:
        the figures history merges a revision's retraction and new claim into one row, which it
        can only do when both are in the same batch. Without this, the history would depend on
        where batches happened to end, and an incremental run would differ from a rebuild."""
        while len(events) >= batch_size:
            last = events[-1]
            more = self.store.read_all(last.position, batch_size, conn)
            same = []
            for event in more:
                if event.recorded_at != last.recorded_at:
                    break
                same.append(event)
            events += same
            if len(same) < len(more) or len(more) < batch_size:
                break
        return events

    def catch_up(self, names: Sequence[str] | None = None, batch_size: int = 2000) -> int:
        """Apply everything up to the head; the number of events applied."""
        unknown = set(names or ()) - self.projections.keys()
        if unknown:
            raise KeyError(f"no such projection: {', '.join(sorted(unknown))}")
        wanted = [name for name in self.projections if not names or name in names]
        # The first batch of each in one transaction (inline after a write, that is all there
        # is); a projection further behind goes on alone, one batch per transaction.
        with write_gate(self.store.engine):
            first = self._step_together(wanted, batch_size)
        total = sum(first.values())
        for name in wanted:
            if first[name] < batch_size:
                continue  # it read up to the head: another step would find nothing
            while applied := self.step(name, batch_size):
                total += applied
                if applied < batch_size:
                    break
        return total

    def rebuild(self, name: str, batch_size: int = 5000) -> int:
        """Drop the projection's rows and replay the whole log into them, in one transaction:
        readers see the old state until the new one is complete. A projection with a
        `rebuild(conn, batches)` method gets every batch (a list of `LogRow`s) in one call (it
        may keep state across them); others get `apply` per batch of RecordedEvents. A
        projection with `event_types` gets only events of those types. Returns the number of
        events in the log it covered."""
        with write_gate(self.store.engine):
            return self._rebuild(name, batch_size)

    def _rebuild(self, name: str, batch_size: int) -> int:
        projection = self.projections[name]
        conn = self._begin()
        try:
            self._lock(conn, name)
            for table in reversed(projection.tables):
                conn.execute(delete(table))
            types = getattr(projection, "event_types", None)
            read = _LogReader(self.store, conn, batch_size, types)
            whole = getattr(projection, "rebuild", None)
            with _no_gc():
                if callable(whole):
                    whole(conn, read.rows())
                else:
                    for events in read.events():
                        projection.apply(conn, events)
            self.write_checkpoint(conn, name, read.head)
            conn.commit()
            if self.store.backend == "postgresql":
                # Every row was deleted and written anew: fresh statistics now, rather than
                # whenever autovacuum (if it runs at all) gets to these tables.
                conn.execute(text(f"ANALYZE {', '.join(t.name for t in projection.tables)}"))
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

    def follow(
        self,
        stop: threading.Event,
        poll_interval: float = 0.5,
        batch_size: int = 2000,
        pause: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Tail the log until `stop` is set, or until `pause()` says so after applying some
        events (everything applied is committed with its checkpoint by then). True when it
        stopped for `pause`."""
        while not stop.is_set():
            try:
                applied = self.catch_up(batch_size=batch_size)
            except Exception:  # a database restart must not end the follower
                log.exception("projection batch failed; retrying")
                applied = 0
            if applied and pause():
                return True
            if not applied:
                stop.wait(poll_interval)
        return False
