"""Which database a read goes to, and the log position every response reflects.

Reads go to the read database (FACTSTORE_READ_DATABASE_URL, a streaming replica) when there is
one, else to the primary. Every response says the position it reflects in `Factstore-Position`:
the log and every projection were visible up to at least there (a write's response: the
position after the write). A client that has just written sends that position back as
`min_position` (query) or `Factstore-Min-Position` (header) and gets an answer at least that
fresh: from the replica when it has replayed that far, else from the primary, else, after
waiting at most FACTSTORE_MIN_POSITION_WAIT_MS, a 503 it may retry.

`reader()` in api.context calls `read_store()` for every read resource, so the routing lives
here only; the OpenAPI document gets the parameters and the header from `document()`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apispec import BasePlugin
from flask import Flask, Response, g, request
from flask_smorest import abort
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from api.errors import problem
from factstore.projections.queries import MAX_POSITION
from factstore.projections.runner import visible_position
from factstore.store.event_store import EventStore
from factstore.whole_numbers import parse_whole_number

POSITION_HEADER = "Factstore-Position"
MIN_POSITION_HEADER = "Factstore-Min-Position"
MIN_POSITION_ARG = "min_position"
# Between two looks at how far the databases have come, while a read waits for min_position.
POLL_SECONDS = 0.05
RETRY_AFTER_SECONDS = 1

log = logging.getLogger(__name__)


class PositionNotReached(Exception):
    def __init__(self, wanted: int, reached: int) -> None:
        super().__init__(f"the store has reached position {reached}, not {wanted}")
        self.wanted = wanted
        self.reached = reached


def register(app: Flask) -> None:
    app.after_request(_position_header)
    app.teardown_request(lambda _error: close_read_connection())

    @app.errorhandler(PositionNotReached)
    def not_reached(error: PositionNotReached) -> Response:
        return problem(
            503,
            "Service Unavailable",
            f"{error}; retry later",
            kind="position-not-reached",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            min_position=error.wanted,
            position=error.reached,
        )


@contextmanager
def read_connection() -> Iterator[Connection]:
    """The connection this request's read position was taken on, for the handler's reads: the
    same snapshot on SQLite, and on PostgreSQL no second checkout, BEGIN and ROLLBACK per read.
    Closed when the request ends, not when the handler's `with` block does."""
    conn: Connection | None = g.get("factstore_read_connection")
    if conn is None:
        raise RuntimeError("read_connection() before read_store() in this request")
    yield conn


def close_read_connection() -> None:
    """Give the request's read connection back now: a handler that streams its response
    (SSE) must, or the connection and its snapshot would be held for the whole stream."""
    conn: Connection | None = g.pop("factstore_read_connection", None)
    if conn is None:
        return
    try:
        conn.close()
    except SQLAlchemyError as error:
        # The response is decided already; a connection that died under it (a database
        # restart) is dropped from the pool instead of failing the request afterwards.
        log.warning("read connection lost after the response: %s", error)
        conn.invalidate()


def read_store(
    primary: EventStore, replica: EventStore | None, names: list[str], wait_ms: int
) -> EventStore:
    """The store this request reads from (chosen once per request), at least as fresh as the
    client asked. `names`: the projections whose checkpoints count toward a position."""
    chosen: EventStore | None = g.get("factstore_read_store")
    if chosen is not None:
        return chosen
    wanted = _min_position()
    deadline = time.monotonic() + wait_ms / 1000
    candidates = [primary] if replica is None else [replica, primary]
    while True:
        reached = 0
        for candidate in candidates:
            position = _position(candidate, names, primary)
            if position is None:
                continue
            if wanted is None or position >= wanted:
                g.factstore_read_store = candidate
                g.factstore_position = position
                return candidate
            reached = max(reached, position)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            assert wanted is not None
            raise PositionNotReached(wanted, reached)
        time.sleep(min(POLL_SECONDS, remaining))


def wrote(primary: EventStore, names: list[str]) -> None:
    """Mark this request as a write: its response carries the primary's position afterwards."""
    g.factstore_wrote = (primary, names)


def _position(store: EventStore, names: list[str], primary: EventStore) -> int | None:
    """How far `store` has come; None for a replica that cannot be reached (the primary serves
    then, so a replica outage degrades reads to the primary instead of failing them). The
    connection is kept for the handler (`read_connection`); a later look replaces it, so a
    read that waits for min_position never reads an old snapshot."""
    conn: Connection | None = None
    try:
        conn = store.engine.connect()
        if store.backend == "postgresql":
            # READ COMMITTED gives each statement its own snapshot anyway, so a read needs no
            # transaction: without one it is a round trip per statement, not BEGIN and
            # ROLLBACK around them. (SQLite keeps its transaction: one snapshot per read.)
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        position = visible_position(conn, names)
    except BaseException as error:
        if conn is not None:
            conn.close()
        if not isinstance(error, OperationalError) or store is primary:
            raise
        log.warning("read replica unreachable, reading from the primary: %s", error.orig)
        return None
    previous: Connection | None = g.get("factstore_read_connection")
    if previous is not None:
        previous.close()
    g.factstore_read_connection = conn
    return position


def _min_position() -> int | None:
    """min_position from the query (its schema has validated it) or the header."""
    raw = request.args.get(MIN_POSITION_ARG)
    source = MIN_POSITION_ARG
    if raw is None:
        raw = request.headers.get(MIN_POSITION_HEADER)
        source = MIN_POSITION_HEADER
    if raw is None:
        return None
    position = parse_whole_number(raw.strip())
    if position is None or position > MAX_POSITION:
        abort(422, message=f"{source} must be a log position (a whole number up to 2^62)")
    return position


def _position_header(response: Response) -> Response:
    if response.status_code >= 400:
        return response
    position = g.get("factstore_position")
    written = g.get("factstore_wrote")
    if written is not None:
        primary, names = written
        try:
            position = _position_after_write(primary, names)
        except DBAPIError as error:
            if not _disconnected(error):
                raise
            # The write is stored; only its position could not be read. A 503 is the honest
            # answer: the client retries, and a retried write is a no-op that says where it is.
            log.warning("position after a write not read: %s", error.orig)
            return problem(
                503,
                "Service Unavailable",
                "the write was probably stored but its log position could not be read; retry "
                "it (an identical write is not stored twice)",
                kind="database-unavailable",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
    if position is not None:
        response.headers[POSITION_HEADER] = str(position)
    return response


def _position_after_write(primary: EventStore, names: list[str]) -> int:
    """The primary's position; a second try on a fresh connection when the first one had been
    cut (the pool has dropped it by then: a database restart between the write and this)."""
    try:
        with primary.engine.connect() as conn:
            return visible_position(conn, names)
    except DBAPIError as error:
        if not _disconnected(error):
            raise
    with primary.engine.connect() as conn:
        return visible_position(conn, names)


def _disconnected(error: DBAPIError) -> bool:
    return isinstance(error, OperationalError) or error.connection_invalidated


class ReadConsistencyPlugin(BasePlugin):  # type: ignore[misc]
    """Documents the header parameter, the response header and the 503 on every operation that
    takes `min_position` (the read args schemas declare it; this adds what schemas cannot)."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            if method == "post":  # writes say where they left the log
                _document_position(operation)
            parameters = operation.get("parameters", [])
            if not any(p.get("name") == MIN_POSITION_ARG for p in parameters):
                continue
            _document_position(operation)
            operation["responses"].setdefault("503", "SERVICE_UNAVAILABLE")
            parameters.append(
                {
                    "name": MIN_POSITION_HEADER,
                    "in": "header",
                    "required": False,
                    "description": f"The same as `{MIN_POSITION_ARG}` (the query wins).",
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_POSITION},
                }
            )


def _document_position(operation: dict[str, Any]) -> None:
    for status, response in operation.setdefault("responses", {}).items():
        if str(status).startswith("2") and isinstance(response, dict):
            response.setdefault("headers", {})[POSITION_HEADER] = {
                "description": "The log position this response reflects: the log and every "
                "projection were visible up to at least this position",
                "schema": {"type": "integer", "minimum": 0},
            }
