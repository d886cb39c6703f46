"""The audit pages' blueprint: server-rendered HTML under `/`, beside the JSON API under `/v1`.

Errors raised by a page render as HTML pages; the JSON API keeps its problem+json handlers.
"""

from __future__ import annotations

import logging

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from factstore.projections.queries import InvalidQuery
from factstore.projections.render import format_figure

# The stylesheet and script are in api/static/, which the app itself serves at /static.
blueprint = Blueprint("pages", __name__, template_folder="../templates")
log = logging.getLogger(__name__)
# Figures read the same on the pages as on the command line ("more than 91,000").
blueprint.add_app_template_global(format_figure, "format_figure")


def error_page(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> ResponseReturnValue:
    page = render_template("pages/error.html", status=status, title=title, detail=detail)
    return page, status, headers or {}


@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    headers = {"WWW-Authenticate": 'Bearer realm="factstore"'} if status == 401 else None
    return error_page(status, error.name, error.description or "", headers)


@blueprint.errorhandler(InvalidQuery)
def invalid_query(error: InvalidQuery) -> ResponseReturnValue:
    return error_page(422, "Unprocessable Content", str(error))


@blueprint.errorhandler(OperationalError)
def database_unavailable(error: OperationalError) -> ResponseReturnValue:
    log.warning("database unavailable on page %s", request.path)
    detail = "the database cannot be reached; retry later"
    return error_page(503, "Service Unavailable", detail, {"Retry-After": "5"})


@blueprint.errorhandler(Exception)
def unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("unhandled error on page %s", request.path)
    return error_page(500, "Internal Server Error", "an unexpected error occurred")
