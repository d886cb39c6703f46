"""Articles: ingest one, list them, read one with its claims, read its event stream."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import and_, func, select

from api import schemas
from api.context import reader, writer
from api.http import (
    IMMUTABLE,
    REVALIDATE,
    body_response,
    encode_document,
    etag_for,
    json_response,
    not_modified,
)
from api.resources.events import event_document
from api.spec import errors
from factstore.ingest.service import ingest
from factstore.ingest.sources import ArticleInput, article_id_for, stream_id_for
from factstore.projections import queries
from factstore.projections.models import articles_table
from factstore.store.verification import verify_stream

blp = Blueprint(
    "articles", __name__, url_prefix="/v1/articles", description="Articles and their claims"
)


# Built once per process: building a schema deep-copies its fields.
_ARTICLE_PAGE = schemas.ArticlePageSchema()
_STREAM = schemas.StreamSchema()


@blp.route("")
class Articles(MethodView):
    @blp.arguments(schemas.ArticleInSchema)
    @blp.response(201, schemas.IngestResultSchema, description="A new article or a new revision")
    @blp.alt_response(
        200, schema=schemas.IngestResultSchema, description="Unchanged: nothing appended"
    )
    @errors(blp, 401, 409, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Ingest one article: extract its claims and append what changed."""
        services, actor = writer()
        published = body.get("published_at")
        article = ArticleInput(
            article_id=article_id_for(
                body.get("source_id"), body.get("url"), _content_id(body["text"])
            ),
            text=body["text"],
            title=body.get("title"),
            outlet=body.get("outlet"),
            published_at=published.isoformat() if published else None,
            url=body.get("url"),
            source="api",
        )
        metadata = {
            "actor": actor,
            "source": "api",
            "correlation_id": request.headers.get("X-Request-Id") or str(uuid.uuid4()),
        }
        [outcome] = list(
            ingest(services.store, [article], metadata=metadata, runner=services.runner)
        )
        # From the primary, which has the write (a replica may not have it yet); one connection.
        with services.store.engine.connect() as conn:
            head = services.store.head_position(conn)
            claims = queries.article_claims(conn, outcome.stream_id)
        document = {
            "stream_id": outcome.stream_id,
            "article_id": outcome.article_id,
            "status": outcome.status,
            "version": outcome.version,
            "events_appended": outcome.events_appended,
            "claims_asserted": outcome.claims_asserted,
            "claims_retracted": outcome.claims_retracted,
            "head_position": head,
            "claims": claims,
        }
        status = 200 if outcome.status == "unchanged" else 201
        headers = {"Location": f"/v1/articles/{outcome.stream_id}"}
        return document, status, headers

    @blp.arguments(schemas.ArticleListArgsSchema, location="query")
    @blp.response(200, schemas.ArticlePageSchema)
    @errors(blp, 304)
    def get(self, args: dict[str, Any]) -> Any:
        """List articles, newest first; filter by outlet and publication date."""
        services = reader()
        a = articles_table.c
        conditions = []
        if "outlet" in args:
            conditions.append(a.outlet == args["outlet"])
        if "published_from" in args:
            conditions.append(a.published_at >= args["published_from"].isoformat())
        if "published_to" in args:
            conditions.append(a.published_at <= args["published_to"].isoformat() + "\uffff")
        where = and_(True, *conditions)
        with services.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(articles_table).where(where)
            ).scalar()
            head = conn.execute(select(func.max(a.last_position))).scalar() or 0
            etag = etag_for("articles", head)
            cached = not_modified(etag)
            if cached is not None:
                return cached
            rows = conn.execute(
                select(articles_table)
                .where(where)
                .order_by(a.last_position.desc())
                .limit(args["limit"])
                .offset(args["offset"])
            ).mappings()
            items = [queries.article_document(row) for row in rows]
        document = {"items": items, "total": total or 0}
        return json_response(_ARTICLE_PAGE, document, etag)


def _content_id(text: str) -> str:
    """Articles posted without source_id or url are identified by their text."""
    return "text-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@blp.route("/<path:stream_id>/events")
class ArticleEvents(MethodView):
    @blp.arguments(schemas.StreamEventsArgsSchema, location="query")
    @blp.response(200, schemas.StreamSchema)
    @errors(blp, 304, 404)
    def get(self, args: dict[str, Any], stream_id: str) -> Any:
        """The article's event stream, with hashes and whether its chain verifies."""
        services = reader()
        stream_id = _stream_id(stream_id)
        version = services.store.stream_version(stream_id)
        if version is None:
            abort(404, message=f"no article stream {stream_id!r}")
        to_version = args.get("to_version")
        etag = etag_for("stream", stream_id, version)
        complete = to_version is not None and to_version <= version
        cache = IMMUTABLE if complete else REVALIDATE
        cached = not_modified(etag, cache)
        if cached is not None:
            return cached
        # The whole stream is read once: verification needs it, the page is a slice of it.
        stream = services.store.read_stream(stream_id)
        last = to_version if to_version is not None else version
        document = {
            "stream_id": stream_id,
            "version": version,
            "verified": verify_stream(stream) is None,
            "items": [
                event_document(e) for e in stream if args["from_version"] <= e.version <= last
            ],
        }
        return json_response(_STREAM, document, etag, cache)


@blp.route("/<path:stream_id>")
class Article(MethodView):
    @blp.arguments(schemas.ReadArgsSchema, location="query")
    @blp.response(200, schemas.ArticleDetailSchema)
    @errors(blp, 304, 404)
    def get(self, _args: dict[str, Any], stream_id: str) -> Any:
        """An article's current state and every claim extracted from it."""
        services = reader()
        stream_id = _stream_id(stream_id)
        with services.connect() as conn:
            document = queries.article_with_claims(conn, stream_id)
        if document is None:
            abort(404, message=f"no article {stream_id!r}")
        etag = etag_for("article", stream_id, document["version"])
        cached = not_modified(etag)
        if cached is not None:
            return cached
        # Built in its schema's shape: encoded directly (test_read_path.py holds it to
        # ArticleDetailSchema's dump).
        return body_response(encode_document(document), etag)


def _stream_id(identifier: str) -> str:
    """Accept the stream id (article-…) or the bare article id."""
    return identifier if identifier.startswith("article-") else stream_id_for(identifier)
