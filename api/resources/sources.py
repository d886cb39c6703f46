"""Sources: the configured ones (sources file) and those added over the API (recorded as
events; removing one appends SourceRemoved). Only http and feed sources can be added here."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import schemas
from api.context import reader, writer
from api.spec import errors
from factstore.ingest import registry
from factstore.ingest.sources_config import SourceConfigError, SourceSet
from factstore.store.event_store import EventStore

blp = Blueprint("sources", __name__, url_prefix="/v1/sources", description="Article sources")


def current_sources(store: EventStore) -> SourceSet:
    try:
        return registry.load_sources(store)
    except SourceConfigError as error:
        abort(503, message=f"the sources configuration is not usable: {error}")
        raise  # unreachable: abort raises


@blp.route("")
class Sources(MethodView):
    @blp.arguments(schemas.ReadArgsSchema, location="query")
    @blp.response(200, schemas.SourceListSchema)
    @errors(blp, 422, 503)
    def get(self, _args: dict[str, Any]) -> Any:
        """Every source in force: from the sources file, then those added over the API."""
        sources = current_sources(reader().store)
        return {"items": [registry.source_document(s) for s in sources.sources]}

    @blp.arguments(schemas.SourceInSchema)
    @blp.response(201, schemas.SourceSchema)
    @errors(blp, 401, 409, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Add an http or feed source (a SourceAdded event); the scheduler picks it up."""
        services, actor = writer()
        try:
            source = registry.add_source(services.store, body, actor)
        except registry.SourceConflict as error:
            abort(409, message=str(error))
        except SourceConfigError as error:
            abort(422, message=str(error))
        return registry.source_document(source)


@blp.route("/<string:source_id>")
class Source(MethodView):
    @blp.arguments(schemas.ReadArgsSchema, location="query")
    @blp.response(200, schemas.SourceSchema)
    @errors(blp, 404, 422, 503)
    def get(self, _args: dict[str, Any], source_id: str) -> Any:
        """One source."""
        source = current_sources(reader().store).get(source_id)
        if source is None:
            abort(404, message=f"no source {source_id!r}")
        return registry.source_document(source)

    @blp.response(204)
    @errors(blp, 401, 404, 409)
    def delete(self, source_id: str) -> Any:
        """Remove a source added over the API (a SourceRemoved event; its articles stay)."""
        services, actor = writer()
        try:
            registry.remove_source(services.store, source_id, actor)
        except registry.SourceNotFound as error:
            abort(404, message=str(error))
        except registry.SourceConflict as error:
            abort(409, message=str(error))
        return None
