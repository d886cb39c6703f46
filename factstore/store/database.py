"""Engines for the two supported backends, configured the way the store relies on.

SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout, and explicit
transaction control so that writers take the write lock up front (BEGIN IMMEDIATE) instead of
failing to upgrade a read lock half-way through an append.
PostgreSQL: psycopg 3, READ COMMITTED (the append lock relies on each statement seeing the latest
commit); pooled connections are pinged when they were idle, not on every checkout.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError

from factstore.store.errors import UnsupportedDatabase

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL: a pooled connection idle for this long is pinged before it is handed out.
PING_AFTER_IDLE_S = 1.0
# PostgreSQL connections per process: kept idle in the pool, and opened beyond that at peaks.
POOL_SIZE = 12
POOL_OVERFLOW = 4
_CHECKED_IN = "factstore_checked_in"
# Execution option a caller sets to choose how a SQLite transaction begins.
SQLITE_BEGIN = "factstore_sqlite_begin"


def backend_name(url: str | URL) -> str:
    return make_url(url).get_backend_name()


def create_store_engine(url: str | URL, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for the store. `read_only` makes every session refuse writes (SQLite
    query_only, PostgreSQL default_transaction_read_only): for a read replica, or the primary
    when it stands in for one, so a read path can never write by mistake."""
    engine = _engine(url, **kwargs)
    if read_only:
        _refuse_writes(engine)
    return engine


def _refuse_writes(engine: Engine) -> None:
    statement = (
        "PRAGMA query_only = ON"
        if engine.dialect.name == "sqlite"
        else "SET SESSION default_transaction_read_only = on"
    )

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if engine.dialect.name != "sqlite":
            dbapi_connection.commit()  # psycopg opened a transaction for the SET


def _engine(url: str | URL, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername != "postgresql+psycopg":
            raise UnsupportedDatabase(
                f"PostgreSQL is supported through psycopg 3 only ('postgresql+psycopg://…'), "
                f"not {parsed.drivername!r}"
            )
        ping_idle = "pool_pre_ping" not in kwargs
        # A server thread can hold two or three connections at once (its read snapshot, a
        # transaction, a log read beside it). With SQLAlchemy's default of 5 kept idle, the
        # soak's four 4-thread workers closed and reopened ~1.7 connections a second between
        # them, each one a new PostgreSQL server process. Keep 12; the cap stays near the
        # default's (16, was 15).
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
        engine = create_engine(parsed, isolation_level="READ COMMITTED", **kwargs)
        if ping_idle:
            _ping_idle_connections(engine, PING_AFTER_IDLE_S)
        return engine
    raise UnsupportedDatabase(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://…"
    )


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """pool_pre_ping, but only for a connection that sat in the pool for idle_seconds or more.

    Dead connections come from idleness (server restarts, idle timeouts in between); a ping on
    every checkout costs a round trip per append on a busy writer, where the connection was in
    use a moment ago. A failed ping makes the pool discard the connection and connect afresh.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in < idle_seconds:
            return  # a new connection, or one that was working a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError(str(error)) from error
            raise


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    # Hand transaction control to the listeners below (pysqlite's own is lazy and DEFERRED).
    connect_args["isolation_level"] = None
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


class _SqliteWriteGate:
    """Write transactions on one SQLite file, one at a time, queued in the kernel.

    SQLite's own lock has no queue: a writer that finds it taken sleeps in the busy handler
    (1, 2, 5 … up to 100 ms between tries) while newcomers may take the lock first, so under
    several writing processes some writes waited seconds with the CPU idle (the load
    benchmark's POSTs: p99 5 s at 63 % CPU). Writers therefore queue here first: a thread lock
    within the process, then `flock` on a sidecar file across processes; both wake a waiter
    as soon as the holder is done. Re-entrant for the thread that holds it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                if self._fd is None:
                    self._fd = _open_gate_file(self.path)
                if self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


def _open_gate_file(path: str) -> int | None:
    """The gate's file, made if missing; None where it cannot be made (a full or read-only
    disk): writers then queue in SQLite's busy handler as before, and the write itself fails
    with SQLite's own error, which says what is wrong."""
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            return os.open(path, flags, 0o600)
        except OSError:
            continue
    return None


_gates: dict[str, _SqliteWriteGate] = {}
_gates_lock = threading.Lock()


def _forget_gates_in_child() -> None:
    # A forked child must not share the parent's open file (flock would not exclude between
    # them) nor inherit a lock some other thread held at the fork.
    global _gates_lock
    _gates_lock = threading.Lock()
    _gates.clear()


os.register_at_fork(after_in_child=_forget_gates_in_child)


@contextmanager
def write_gate(engine: Engine) -> Iterator[None]:
    """Hold around a write transaction (see `_SqliteWriteGate`); nothing on PostgreSQL, whose
    locks queue their waiters, or on an in-memory SQLite database."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    path = os.path.realpath(database) + "-writegate"
    with _gates_lock:
        gate = _gates.get(path) or _gates.setdefault(path, _SqliteWriteGate(path))
    gate.acquire()
    try:
        yield
    finally:
        gate.release()
