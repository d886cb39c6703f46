"""Jobs: one per source (`reingest.<source id>`) and `reextract`; their runs, read from the run
streams; and run requests, which the scheduler's leader serves within a heartbeat (runs never
happen inside a web worker)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import schemas
from api.context import reader, writer
from api.resources.sources import current_sources
from api.spec import errors
from factstore.ingest import registry
from factstore.ingest.scheduler import scheduler_status
from factstore.store.event_store import EventStore

blp = Blueprint("jobs", __name__, url_prefix="/v1/jobs", description="Scheduled jobs and runs")


def _known_job(store: EventStore, job_id: str) -> None:
    try:
        registry.check_job(current_sources(store), job_id)
    except registry.JobNotFound as error:
        abort(404, message=str(error))


@blp.route("")
class Jobs(MethodView):
    @blp.arguments(schemas.ReadArgsSchema, location="query")
    @blp.response(200, schemas.JobListSchema)
    @errors(blp, 422, 503)
    def get(self, _args: dict[str, Any]) -> Any:
        """Every job with its schedule and its latest run, and the scheduler's heartbeat."""
        store = reader().store
        items = registry.jobs(current_sources(store), registry.reextract_interval_s())
        for job in items:
            latest = registry.recent_runs(store, job["id"], limit=1)
            job["last_run"] = latest[0] if latest else None
        return {"items": items, "scheduler": scheduler_status(store.engine)}


@blp.route("/<string:job_id>/runs")
class JobRuns(MethodView):
    @blp.arguments(schemas.RunListArgsSchema, location="query")
    @blp.response(200, schemas.RunListSchema)
    @errors(blp, 404, 422)
    def get(self, args: dict[str, Any], job_id: str) -> Any:
        """The job's runs, newest first: started, per-source counts and errors, finished."""
        store = reader().store
        _known_job(store, job_id)
        return {"job_id": job_id, "items": registry.recent_runs(store, job_id, args["limit"])}


@blp.route("/<string:job_id>/run")
class JobRun(MethodView):
    @blp.response(202, schemas.RunRequestedSchema)
    @errors(blp, 401, 404)
    def post(self, job_id: str) -> Any:
        """Run the job now: the request is recorded (a RunRequested event) and the scheduler's
        leader starts the run within a heartbeat; follow it at /v1/jobs/{id}/runs."""
        services, actor = writer()
        _known_job(services.store, job_id)
        request_id = registry.request_run(services.store, job_id, actor)
        return {
            "job_id": job_id,
            "request_id": request_id,
            "status": "queued",
            "scheduler": scheduler_status(services.store.engine),
        }
