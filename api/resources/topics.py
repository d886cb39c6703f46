"""Topics: the best figure per topic, its history and its claims, now or as of any point."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import Connection

from api import schemas
from api.context import reader
from api.http import (
    body_cache,
    body_response,
    encode_document,
    etag_for,
    json_response,
    not_modified,
)
from api.spec import errors
from factstore.projections import queries

blp = Blueprint("topics", __name__, url_prefix="/v1/topics", description="Figures per topic")

# One instance each: a schema's fields (and nested schemas) are then built once per process, not
# deep-copied per request. Dumping does not mutate a schema, so threads may share them.
# Topic lists, figures and histories are encoded directly (encode_document); their schemas
# document them.
_CLAIM_PAGE = schemas.ClaimPageSchema()
# Query arguments are parsed by instances too: webargs builds a new schema per request when
# given a class.
_AS_OF_ARGS = schemas.AsOfArgsSchema()
_HISTORY_ARGS = schemas.HistoryArgsSchema()


def _not_found(message: str) -> NoReturn:
    abort(404, message=message)
    raise AssertionError("abort raises")  # flask_smorest's abort is untyped


def _topic_version(topic: str, conn: Connection | None = None) -> int:
    """The position of the last event that changed the topic (404 when there is none)."""
    if conn is None:
        with reader().connect() as own:
            position = queries.topic_version(own, topic)
    else:
        position = queries.topic_version(conn, topic)
    if position is None:
        _not_found(f"no topic {topic!r}")
    return position


def _valid_at(args: dict[str, Any]) -> str | None:
    return args["valid_at"].isoformat() if "valid_at" in args else None


@blp.route("")
class Topics(MethodView):
    @blp.arguments(schemas.TopicListArgsSchema, location="query")
    @blp.response(200, schemas.TopicPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Topics with their best figure; filter by measure, subject, place (places inside it
        match too) or text; sort with `sort=field` or `sort=-field`."""
        services = reader()
        sort = args["sort"]
        items, total, as_of = queries.list_topics(
            services.store.engine,
            measure=args.get("measure"),
            subject=args.get("subject"),
            place=args.get("place"),
            search=args.get("q"),
            known_at=args.get("known_at"),
            valid_at=_valid_at(args),
            sort=sort.lstrip("-"),
            descending=sort.startswith("-"),
            limit=args["limit"],
            offset=args["offset"],
            policy=services.settings.policy,
        )
        document = {"items": items, "total": total, **as_of.to_dict()}
        etag = etag_for("topics", services.store.head_position())
        # Built by the code in its schema's shape: encoded directly (test_read_path.py holds it
        # to TopicPageSchema's dump); marshmallow took a third of a list's time.
        return body_response(encode_document(document), etag)


@blp.route("/<string:topic>")
class Topic(MethodView):
    @blp.arguments(_AS_OF_ARGS, location="query")
    @blp.response(200, schemas.TopicSchema)
    @errors(blp, 304, 404)
    def get(self, args: dict[str, Any], topic: str) -> Any:
        """The best figure with its range, provenance, competing claims and why it won;
        `known_at` (a log position or timestamp) and `valid_at` (a date) travel in time."""
        services = reader()
        # One connection, and the topic row read once: it gives the version (ETag) and the
        # topic's keys for the document.
        with services.connect() as conn:
            meta = queries.topic_row(conn, topic)
            if meta is None:
                _not_found(f"no topic {topic!r}")
            etag = etag_for("topic", topic, int(meta["updated_position"]))
            cached = not_modified(etag)
            if cached is not None:
                return cached
            current = not request.args
            if current:
                # The current figure is the same bytes until the topic's version moves.
                stored = meta["document_json"]  # kept current by the figures projection
                if stored is not None:
                    return body_response(stored.encode("ascii"), etag)
                body = body_cache().get(etag)
                if body is not None:
                    return body_response(body, etag)
                document = queries.figure_for(conn, meta, queries.AsOf(), services.settings.policy)
            else:
                as_of = queries.resolve_as_of(conn, args.get("known_at"), _valid_at(args))
                document = queries.figure_for(conn, meta, as_of, services.settings.policy)
        if document is None:
            abort(404, message=f"topic {topic!r} has no claims at that point in time")
        body = encode_document(document)
        if current:
            body_cache().put(etag, body)
        return body_response(body, etag)


@blp.route("/<string:topic>/history")
class TopicHistory(MethodView):
    @blp.arguments(_HISTORY_ARGS, location="query")
    @blp.response(200, schemas.HistorySchema)
    @errors(blp, 304, 404)
    def get(self, args: dict[str, Any], topic: str) -> Any:
        """Every change of the topic's figure, oldest first, each with its cause (the event)
        and both times: when it was recorded and the date the new figure is valid for."""
        services = reader()
        with services.connect() as conn:
            etag = etag_for("history", topic, _topic_version(topic, conn))
            cached = not_modified(etag)
            if cached is not None:
                return cached
            current = not request.args
            if current:
                body = body_cache().get(etag)
                if body is not None:
                    return body_response(body, etag)
            as_of = queries.resolve_as_of(conn, args.get("known_at"), None)
            rows = queries.history_for(conn, topic, as_of)
        document = {"topic": topic, "known_at_position": as_of.position, "items": rows}
        body = encode_document(document)
        if current:
            body_cache().put(etag, body)
        return body_response(body, etag)


@blp.route("/<string:topic>/claims")
class TopicClaims(MethodView):
    @blp.arguments(schemas.PageArgsSchema, location="query")
    @blp.response(200, schemas.ClaimPageSchema)
    @errors(blp, 304, 404)
    def get(self, args: dict[str, Any], topic: str) -> Any:
        """Every claim about the topic, with its status and provenance, in log order."""
        services = reader()
        etag = etag_for("topic-claims", topic, _topic_version(topic))
        cached = not_modified(etag)
        if cached is not None:
            return cached
        items, total = queries.list_claims(
            services.store.engine, topic=topic, limit=args["limit"], offset=args["offset"]
        )
        return json_response(_CLAIM_PAGE, {"items": items, "total": total}, etag)
