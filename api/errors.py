"""Every error leaves as application/problem+json (RFC 9457); no stack trace or SQL ever does."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str | None = None, **extra: object) -> Response:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = problem(error.code or 500, error.name, error.description)
        if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response:
        log.warning("database unavailable: %s", error.__class__.__name__)
        response = problem(
            503, "Service Unavailable", "the database cannot be reached; retry later"
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred")
