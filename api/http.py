"""HTTP conventions shared by the resources: conditional GETs, caching, pagination links."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, json, request

from factstore.projections import documents

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def etag_for(*parts: object) -> str:
    """A strong validator derived from positions/versions and the query that shaped the body."""
    text = "|".join(str(p) for p in (*parts, sorted(request.args.items(multi=True))))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def not_modified(etag: str, cache_control: str = REVALIDATE) -> Response | None:
    """A 304 when the client already has this representation, else None."""
    if not request.if_none_match.contains(etag):
        return None
    return with_cache(Response(status=304), etag, cache_control)


def with_cache(response: Response, etag: str, cache_control: str = REVALIDATE) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    return response


def json_response(
    schema: Any, document: Any, etag: str, cache_control: str = REVALIDATE
) -> Response:
    """The document dumped through its response schema (what the spec promises), with caching
    headers. Views return it directly: flask-smorest passes a Response through untouched."""
    response = Response(json.dumps(schema.dump(document)), mimetype="application/json")
    return with_cache(response, etag, cache_control)


def encode_document(document: Any) -> bytes:
    """A document already shaped as its response schema dumps it (plain dicts, lists, str,
    int, float, bool, None), as JSON bytes: what `json_response` sends, without marshmallow.
    Only for documents the code builds itself; tests/integration/api/test_read_path.py proves
    they equal their schema's dump."""
    return documents.encode_document(document).encode("ascii")


def body_response(body: bytes, etag: str, cache_control: str = REVALIDATE) -> Response:
    """A JSON body already encoded (`encode_document`), with caching headers."""
    return with_cache(Response(body, mimetype="application/json"), etag, cache_control)


class BodyCache:
    """Encoded response bodies by ETag, least recently used out first, bounded in bytes.
    Always current: an ETag derives from the log positions that shaped the body, so a changed
    resource has a new key and its old body simply ages out. One per app (a process may serve
    several stores, e.g. in tests); shared by the worker's threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 8:  # also: a cache of 0 bytes keeps nothing
            return  # one huge body must not flush everything else
        with self._lock:
            old = self._bodies.pop(key, None)
            self._size += len(body) - (len(old) if old is not None else 0)
            self._bodies[key] = body
            while self._size > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._bodies)


# Per worker process; bodies of current histories (and of current figures where the projection
# has not stored them yet) are a few KB each. Small, because a full cache is resident memory of
# every worker: at 16 MB it filled in the soak's first 5 minutes and, with the heap its churn
# left free, made up most of each worker's growth (BENCHMARKS.md, "Soak"); reads of topics
# drawn from thousands hit it rarely at any size.
# FACTSTORE_API_BODY_CACHE_MB=0 turns the cache off (e.g. to measure the uncached path).
BODY_CACHE_MB = 4


def body_cache() -> BodyCache:
    """The app's cache of encoded bodies (made on first use)."""
    cache: BodyCache | None = current_app.extensions.get("factstore.bodies")
    if cache is None:
        megabytes = int(os.environ.get("FACTSTORE_API_BODY_CACHE_MB", BODY_CACHE_MB))
        cache = current_app.extensions.setdefault("factstore.bodies", BodyCache(megabytes << 20))
    return cache


def next_link(**params: object) -> str:
    args = {k: v for k, v in request.args.items()}
    args.update({k: str(v) for k, v in params.items()})
    return f'<{request.base_url}?{urlencode(args)}>; rel="next"'
