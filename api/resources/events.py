"""The global log for subscribers: cursor pages, and a Server-Sent Events stream."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import consistency, schemas
from api.context import reader
from api.errors import problem
from api.http import (
    IMMUTABLE,
    REVALIDATE,
    body_response,
    encode_document,
    etag_for,
    next_link,
    not_modified,
)
from api.spec import errors
from factstore.projections.queries import MAX_POSITION
from factstore.store.event_store import EventStore
from factstore.store.export import event_record as event_document  # one document per event
from factstore.whole_numbers import parse_whole_number

blp = Blueprint("events", __name__, url_prefix="/v1/events", description="The global event log")

SSE_POLL_SECONDS = 0.5
# A keepalive write is also how a stream notices its client left: keep it short.
SSE_KEEPALIVE_SECONDS = 5.0
# Streams hold a server thread each: cap them per process and in length, so they can never
# starve ordinary requests. Clients reconnect with Last-Event-ID (the SSE standard).
SSE_MAX_STREAMS = int(os.environ.get("FACTSTORE_API_SSE_STREAMS", "4"))  # set by `serve`
SSE_MAX_SECONDS = 300.0
_streams = threading.BoundedSemaphore(SSE_MAX_STREAMS)
# Built once per process (dumping does not mutate a schema; threads may share it).
_EVENT = schemas.EventSchema()


@blp.route("")
class Events(MethodView):
    @blp.arguments(schemas.EventsArgsSchema, location="query")
    @blp.response(200, schemas.EventPageSchema)
    @errors(blp, 304)
    def get(self, args: dict[str, Any]) -> Any:
        """Events after a position, in log order. Follow `Link: rel=next` (or `next_after`)."""
        services = reader()
        after, limit = args["after"], args["limit"]
        with services.connect() as conn:
            head = services.store.head_position(conn)
        events = services.store.read_all(after, limit) if after < head else []
        next_after = events[-1].position if events else after
        # A full page below the head never changes again: the log is append-only.
        cache = IMMUTABLE if len(events) == limit else REVALIDATE
        etag = etag_for("events", after, limit, next_after)
        cached = not_modified(etag, cache)
        if cached is not None:
            return cached
        document = {
            "items": [event_document(e) for e in events],
            "next_after": next_after,
            "head_position": head,
        }
        # Built by the code in its schema's shape: encoded directly (test_read_path.py holds it
        # to EventPageSchema's dump); marshmallow took a third of a page's time.
        response = body_response(encode_document(document), etag, cache)
        response.headers["Link"] = next_link(after=next_after, limit=limit)
        return response


@blp.route("/stream")
class EventStream(MethodView):
    @blp.arguments(schemas.EventsArgsSchema, location="query")
    @blp.response(
        200,
        description="One SSE `event` per stored event: id = position, data = the event",
        content_type="text/event-stream",
    )
    @errors(blp, 503)
    def get(self, args: dict[str, Any]) -> Any:
        """Server-Sent Events: every event after `after` (or `Last-Event-ID`), then new ones as
        they are appended. `limit` ends the stream after that many events."""
        services = reader()
        last_id = request.headers.get("Last-Event-ID", "")
        after = args["after"]
        if last_id:
            position = parse_whole_number(last_id.strip())
            if position is None or position > MAX_POSITION:
                abort(422, message="Last-Event-ID must be a log position")
            after = position
        if not _streams.acquire(blocking=False):
            return problem(
                503,
                "Service Unavailable",
                "too many open event streams on this server; retry later",
                kind="too-many-streams",
                headers={"Retry-After": "5"},
            )
        limit = args["limit"] if "limit" in request.args else None
        consistency.close_read_connection()  # the stream reads on connections of its own
        stream = _sse(services.store, after, limit)
        response = Response(stream_with_context(stream), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"
        return response


def _sse(store: EventStore, after: int, limit: int | None) -> Iterator[str]:
    try:
        yield from _sse_frames(store, after, limit)
    finally:
        _streams.release()


def _sse_frames(store: EventStore, after: int, limit: int | None) -> Iterator[str]:
    sent = 0
    started = last_write = time.monotonic()
    yield "retry: 2000\n\n"
    while (limit is None or sent < limit) and time.monotonic() - started < SSE_MAX_SECONDS:
        page = store.read_all(after, 100 if limit is None else min(100, limit - sent))
        for event in page:
            payload = json.dumps(_EVENT.dump(event_document(event)))
            yield f"id: {event.position}\nevent: {event.type}\ndata: {payload}\n\n"
            after = event.position
            sent += 1
        if page:
            last_write = time.monotonic()
            continue
        if time.monotonic() - last_write > SSE_KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            last_write = time.monotonic()
        time.sleep(SSE_POLL_SECONDS)
