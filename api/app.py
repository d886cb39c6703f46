"""The Flask application factory: the web layer over the factstore package."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from api import consistency, docs, errors, idempotency, pages
from api.auth import TokenTable
from api.context import Services
from api.resources import articles, claims, events, health, jobs, sources, topics
from api.spec import FactstoreApi
from factstore.config import Settings
from factstore.projections import default_runner
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.hashing import lone_surrogate_at

MAX_JSON_DEPTH = 64


def create_app(settings: Settings | None = None, **config: Any) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        API_TITLE="factstore",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        # The spec and docs are served by api.docs (offline); flask-smorest serves nothing.
        OPENAPI_URL_PREFIX=None,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
        API_SPEC_OPTIONS={
            "info": {"description": "An auditable record of figures from news articles."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        },
    )
    app.config.update(config)
    engine = create_store_engine(settings.database_url)
    store = EventStore(engine)
    replica = None
    if settings.read_database_url:
        replica = EventStore(create_store_engine(settings.read_database_url, read_only=True))
    app.extensions["factstore"] = Services(
        settings=settings,
        store=store,
        runner=default_runner(store, settings),
        tokens=TokenTable.from_env(),
        replica=replica,
    )
    api = FactstoreApi(app)
    api.spec.plugins.append(consistency.ReadConsistencyPlugin())
    app.extensions["factstore.api"] = api
    for module in (articles, events, topics, claims, sources, jobs, health):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs.blueprint)
    app.register_blueprint(pages.blueprint)
    errors.register(app)  # after Api: replaces flask-smorest's JSON error handler
    consistency.register(app)
    app.before_request(_check_request_line)
    app.before_request(_check_request_body)
    idempotency.register(app)
    return app


MAX_URL_BYTES = 65_536


def _check_request_line() -> Response | None:
    """Over-long URLs get a 414; NUL characters and repeated query parameters a 404/422; all as
    problem+json."""
    if len(request.full_path) > MAX_URL_BYTES:
        return errors.problem(414, "URI Too Long", f"keep the URL under {MAX_URL_BYTES} bytes")
    # PostgreSQL refuses NUL in text: an id or filter holding one would be a 500 deep inside.
    # No id contains one (404), and no filter value may (422), as on SQLite.
    if "\x00" in request.path:
        return errors.problem(404, "Not Found", "no resource has a NUL character (%00) in its id")
    with_nul = sorted({k for k, v in request.args.items(multi=True) if "\x00" in k + v})
    if with_nul:
        return errors.problem(
            422,
            "Unprocessable Content",
            "the request has invalid fields",
            errors=[
                {"field": key, "in": "query", "message": "NUL characters are not allowed."}
                for key in with_nul
            ],
        )
    repeated = sorted({key for key, values in request.args.lists() if len(values) > 1})
    if repeated:
        return errors.problem(
            422,
            "Unprocessable Content",
            "a query parameter was given more than once",
            errors=[
                {"field": key, "in": "query", "message": "Given more than once."}
                for key in repeated
            ],
        )
    return None


def _check_request_body() -> Response | None:
    """Bodies must be JSON, UTF-8, and not absurdly nested (415/400 as problem+json)."""
    if request.method not in ("POST", "PUT", "PATCH") or request.content_length == 0:
        return None
    # A chunked body has no Content-Length: it is read (up to MAX_CONTENT_LENGTH, else 413)
    # and checked like any other, not left to the JSON parser behind these checks.
    raw = request.get_data(cache=True)
    if not raw:
        return None
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise RequestEntityTooLarge()  # the stream stops at the limit and says nothing
    mimetype = request.mimetype
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if mimetype != "application/json" or charset not in ("utf-8", "utf8"):
        return errors.problem(
            415, "Unsupported Media Type", "send the body as application/json; charset=utf-8"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return errors.problem(400, "Bad Request", f"the body is not valid UTF-8 ({error.reason})")
    try:
        value = json.loads(text)
        too_deep = _nesting_depth(value) > MAX_JSON_DEPTH
    except RecursionError:
        too_deep = True
    except ValueError as error:
        return errors.problem(400, "Bad Request", f"the body is not valid JSON ({error})")
    if too_deep:
        return errors.problem(
            400, "Bad Request", f"the JSON is nested deeper than {MAX_JSON_DEPTH}"
        )
    # Valid UTF-8 can still escape a lone surrogate ("\ud800"): not text, and nothing can
    # encode or store it. Only a body with such an escape is searched.
    if _SURROGATE_ESCAPE.search(text):
        where = _lone_surrogate(value)
        if where is not None:
            return errors.problem(
                400,
                "Bad Request",
                f"the body is not Unicode text: {where} holds a lone surrogate (an unpaired "
                "\\ud800-\\udfff escape)",
            )
    return None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(value: Any) -> str | None:
    """Where in a parsed JSON value a string (or key) holds a lone surrogate: "the JSON value",
    "field 'text'", "field 'items[2].name'"; None if none does."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if lone_surrogate_at(item) is not None:
                return f"field {path!r}" if path else "the JSON value"
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{path}.{key}" if path else key
                if lone_surrogate_at(key) is not None:
                    return f"a field name in {path!r}" if path else "a field name"
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None


def _nesting_depth(value: Any) -> int:
    """How deeply a parsed JSON value nests arrays and objects (0 for a scalar), without
    recursion. Parsing first is safe: the C decoder stops at ~1,000 levels (RecursionError), and
    a loop over the text instead costs ~2 ms per article body."""
    deepest = 0
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest
