"""Engines for the two supported backends, configured the way the store relies on.

SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout, and explicit
transaction control so that writers take the write lock up front (BEGIN IMMEDIATE) instead of
failing to upgrade a read lock half-way through an append.
PostgreSQL: psycopg 3, READ COMMITTED (the append lock relies on each statement seeing the latest
commit).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from factstore.store.errors import UnsupportedDatabase

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option a caller sets to choose how a SQLite transaction begins.
SQLITE_BEGIN = "factstore_sqlite_begin"


def backend_name(url: str | URL) -> str:
    return make_url(url).get_backend_name()


def create_store_engine(url: str | URL, **kwargs: Any) -> Engine:
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
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, isolation_level="READ COMMITTED", **kwargs)
    raise UnsupportedDatabase(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://…"
    )


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
