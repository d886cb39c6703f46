"""`Idempotency-Key` on write requests: a retried POST with the same key and body gets the
first response again (marked `Idempotent-Replayed: true`) and appends nothing; the same key
with another body is a 422. Keys are per actor and kept for 24 hours."""

from __future__ import annotations

from flask import Flask, Response, g, request

from api.auth import current_actor
from api.context import services
from api.errors import problem
from factstore.store import idempotency

HEADER = "Idempotency-Key"


def register(app: Flask) -> None:
    app.before_request(_replay_or_reserve)
    app.after_request(_remember)


def _replay_or_reserve() -> Response | None:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not key.strip() or len(key) > idempotency.MAX_KEY_LENGTH or not key.isprintable():
        return problem(
            422,
            "Unprocessable Content",
            f"{HEADER} must be 1 to {idempotency.MAX_KEY_LENGTH} printable characters",
        )
    found = services()
    actor = current_actor(found.tokens, write=True)
    assert actor is not None
    hashed = idempotency.request_hash(request.method, request.path, request.get_data(cache=True))
    stored = idempotency.lookup(found.store, actor, key)
    if stored is None:
        g.idempotency = (actor, key, hashed)
        return None
    if stored.request_hash != hashed:
        return problem(
            422,
            "Unprocessable Content",
            f"{HEADER} {key!r} was already used for a different request",
            kind="idempotency-key-reused",
        )
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _remember(response: Response) -> Response:
    reserved = g.pop("idempotency", None)
    if reserved is not None and 200 <= response.status_code < 300:
        actor, key, hashed = reserved
        body = response.get_data(as_text=True)
        idempotency.remember(services().store, actor, key, hashed, response.status_code, body)
    return response
