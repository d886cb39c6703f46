"""HTTP conventions shared by the resources: conditional GETs, caching, pagination links."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from flask import Response, json, request

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


def next_link(**params: object) -> str:
    args = {k: v for k, v in request.args.items()}
    args.update({k: str(v) for k, v in params.items()})
    return f'<{request.base_url}?{urlencode(args)}>; rel="next"'
