"""Claims: one claim with full provenance, and analysts' corrections (rank, retract)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import schemas
from api.context import reader, writer
from api.resources.events import event_document
from api.spec import errors
from factstore import corrections
from factstore.projections import queries
from factstore.store.event_store import EventStore

blp = Blueprint("claims", __name__, url_prefix="/v1/claims", description="Claims and corrections")


def _corrected(store: EventStore, claim_id: str, action: Any) -> dict[str, Any]:
    """The correction's event and the claim after it, read from the primary (`store`), which
    has the write."""
    try:
        event = action()
    except corrections.ClaimNotFound as error:
        abort(404, message=str(error))
    except corrections.ClaimNotCorrectable as error:
        abort(409, message=str(error))
    claim = queries.get_claim(store.engine, claim_id)
    return {"claim": claim, "event": event_document(event)}


@blp.route("/<string:claim_id>")
class Claim(MethodView):
    @blp.arguments(schemas.ReadArgsSchema, location="query")
    @blp.response(200, schemas.ClaimDetailSchema)
    @errors(blp, 404)
    def get(self, _args: dict[str, Any], claim_id: str) -> Any:
        """A claim with its provenance, the rule that produced it and its status history."""
        claim = queries.get_claim(reader().store.engine, claim_id)
        if claim is None:
            abort(404, message=f"no claim {claim_id!r}")
        return claim


@blp.route("/<string:claim_id>/rank")
class ClaimRank(MethodView):
    @blp.arguments(schemas.RankInSchema)
    @blp.response(201, schemas.CorrectionResultSchema)
    @errors(blp, 401, 404, 409)
    def post(self, body: dict[str, Any], claim_id: str) -> Any:
        """Mark a claim preferred, normal or deprecated (a ClaimRanked event, with the actor)."""
        services, actor = writer()
        return _corrected(
            services.store,
            claim_id,
            lambda: corrections.rank_claim(
                services.store, services.runner, claim_id, body["rank"], body["reason"], actor
            ),
        )


@blp.route("/<string:claim_id>/retract")
class ClaimRetract(MethodView):
    @blp.arguments(schemas.RetractInSchema)
    @blp.response(201, schemas.CorrectionResultSchema)
    @errors(blp, 401, 404, 409)
    def post(self, body: dict[str, Any], claim_id: str) -> Any:
        """Retract a claim (recorded as ClaimRetracted with reason `analyst` and the actor)."""
        services, actor = writer()
        return _corrected(
            services.store,
            claim_id,
            lambda: corrections.retract_claim(
                services.store, services.runner, claim_id, body["reason"], actor
            ),
        )
