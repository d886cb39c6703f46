"""Health: is the database reachable, how far behind are the projections."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api import schemas
from api.context import services
from api.spec import errors
from factstore.ingest.scheduler import scheduler_status

blp = Blueprint("health", __name__, url_prefix="/v1/health", description="Service health")


@blp.route("")
class Health(MethodView):
    @blp.response(200, schemas.HealthSchema)
    @errors(blp, 503)
    def get(self) -> Any:
        """Database reachability, head position, projection lags, scheduler heartbeat."""
        found = services()
        lags = found.runner.lags()
        return {
            "status": "ok",
            "database": "reachable",
            "head_position": lags[0].head if lags else found.store.head_position(),
            "projections": [
                {"name": lag.name, "checkpoint": lag.checkpoint, "lag": lag.lag} for lag in lags
            ],
            "scheduler": scheduler_status(found.store.engine),
        }
