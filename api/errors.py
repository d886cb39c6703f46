"""Every error leaves as application/problem+json (RFC 9457); no stack trace or SQL ever does."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from factstore.projections.queries import InvalidQuery
from factstore.store.errors import EventIdReused, InvalidEvent, WrongExpectedVersion

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://factstore.dev/problems/"
RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPES + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


# SQLite's SQLITE_FULL; PostgreSQL's class 53 (insufficient resources: disk full, out of memory).
_SQLITE_FULL = 13


def _out_of_space(error: DBAPIError) -> bool:
    orig = error.orig
    if getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL:
        return True
    return str(getattr(orig, "sqlstate", None) or "").startswith("53")


def _field_errors(messages: Any) -> list[dict[str, str]]:
    """webargs/marshmallow messages ({location: {field: [msg]}}) as a flat list."""
    errors: list[dict[str, str]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)])
        elif isinstance(node, list) and all(isinstance(m, str) for m in node):
            for message in node:
                errors.append(
                    {"field": ".".join(path[1:]) or path[0], "in": path[0], "message": message}
                )
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)])
        else:
            errors.append(
                {"field": ".".join(path[1:]), "in": path[0] if path else "", "message": str(node)}
            )

    walk(messages, [])
    return errors


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        extra: dict[str, Any] = {}
        data = getattr(error, "data", None) or {}
        if "messages" in data:
            extra["errors"] = _field_errors(data["messages"])
        # flask-smorest's abort(…, message=…) carries the specific reason in data["message"].
        detail = data.get("message") or error.description
        if status == 422 and "messages" in data:
            detail = "the request has invalid fields"
        headers = {}
        if status == 405:
            allowed = getattr(error, "valid_methods", None) or []
            headers["Allow"] = ", ".join(allowed)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="factstore"'
        kind = data.get("kind") if isinstance(data, dict) else None
        return problem(status, error.name, detail, kind=kind, headers=headers, **extra)

    @app.errorhandler(WrongExpectedVersion)
    def conflict(error: WrongExpectedVersion) -> Response:
        return problem(409, "Conflict", str(error), kind="concurrency-conflict")

    @app.errorhandler(EventIdReused)
    def reused(error: EventIdReused) -> Response:
        return problem(409, "Conflict", str(error), kind="event-id-reused")

    @app.errorhandler(InvalidEvent)
    def invalid_event(error: InvalidEvent) -> Response:
        return problem(422, "Unprocessable Content", str(error), kind="invalid-event")

    @app.errorhandler(InvalidQuery)
    def invalid_query(error: InvalidQuery) -> Response:
        return problem(422, "Unprocessable Content", str(error), kind="invalid-query")

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response:
        if _out_of_space(error):
            log.error("database out of space: %s", str(error.orig).splitlines()[0])
            return problem(
                507,
                "Insufficient Storage",
                "the database is out of space; retry once space is freed (appends are all or "
                "nothing, and a retried write is not doubled)",
                kind="database-full",
            )
        # Connection refused, server restarting, connection cut: worth a retry. The SQL and the
        # driver message stay in the log.
        log.warning(
            "database unavailable: %s", str(error.orig).splitlines()[0] if error.orig else error
        )
        return problem(
            503,
            "Service Unavailable",
            "the database cannot be reached; retry later",
            kind="database-unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> Response:
        if error.connection_invalidated:
            return database_unavailable(OperationalError(error.statement, error.params, error.orig))
        log.exception("database error")
        return problem(500, "Internal Server Error", "an unexpected database error occurred")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred")
