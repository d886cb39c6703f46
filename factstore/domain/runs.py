"""Events about ingestion itself: the sources added over the API (stream `sources`) and each
re-ingestion run (stream `run-<uuid>`: started, one event per source, finished). Pure.

Runs are events like everything else, so "what did the 06:00 run append, and what failed" is
answered from the same tamper-evident log as the figures it changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SOURCES_STREAM = "sources"
SOURCE_ADDED = "SourceAdded"
SOURCE_REMOVED = "SourceRemoved"

RUN_STARTED = "RunStarted"
SOURCE_PROCESSED = "SourceProcessed"
SOURCE_FAILED = "SourceFailed"
RUN_FINISHED = "RunFinished"
RUN_REQUESTED = "RunRequested"
RUN_EVENTS = (RUN_STARTED, SOURCE_PROCESSED, SOURCE_FAILED, RUN_FINISHED)
# Requests to run a job now (POST /v1/jobs/{id}/run), picked up by the scheduler's leader.
RUN_REQUESTS_STREAM = "run-requests"

# Per-item errors kept in a SourceProcessed event (the count is always exact).
MAX_ERRORS_KEPT = 20

COUNT_NAMES = ("new", "revised", "unchanged", "not_modified", "withdrawn", "failed")


def run_stream_id(run_id: str) -> str:
    return f"run-{run_id}"


@dataclass(slots=True)
class SourceCounts:
    """What one source's part of a run did, article by article."""

    new: int = 0
    revised: int = 0
    unchanged: int = 0
    not_modified: int = 0  # HTTP 304: not even fetched
    withdrawn: int = 0
    failed: int = 0  # transient errors: a failed attempt, nothing else changed
    events_appended: int = 0
    claims_asserted: int = 0
    claims_retracted: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def error(self, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    def to_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in COUNT_NAMES},
            "events_appended": self.events_appended,
            "claims_asserted": self.claims_asserted,
            "claims_retracted": self.claims_retracted,
            "errors": list(self.errors),
        }


def run_started_data(
    run_id: str,
    job_id: str,
    trigger: str,
    source_ids: Sequence[str],
    requests: Sequence[str],
    instance: str | None = None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "job_id": job_id,
        "trigger": trigger,  # cli | schedule | request
        "sources": list(source_ids),
        "requests": list(requests),
        "instance": instance,  # the scheduler process that ran it (None: the command line)
    }


def source_processed_data(source_id: str, kind: str, counts: SourceCounts) -> dict[str, Any]:
    return {"source_id": source_id, "kind": kind, **counts.to_dict()}


def source_failed_data(source_id: str, kind: str, error: str) -> dict[str, Any]:
    return {"source_id": source_id, "kind": kind, "error": error}


def run_finished_data(status: str, totals: Mapping[str, int], duration_s: float) -> dict[str, Any]:
    return {"status": status, "totals": dict(totals), "duration_s": round(duration_s, 3)}


def article_withdrawn_data(article_id: str, reason: str, detail: str | None) -> dict[str, Any]:
    return {"article_id": article_id, "reason": reason, "detail": detail}


def summarise_run(events: Sequence[Any]) -> dict[str, Any]:
    """One run's document from its stream's events (RecordedEvent-like: type, data,
    recorded_at, position)."""
    document: dict[str, Any] = {
        "run_id": None,
        "job_id": None,
        "trigger": None,
        "status": "running",
        "started_at": None,
        "finished_at": None,
        "position": None,
        "sources": [],
        "totals": {},
        "duration_s": None,
        "requests": [],
        "instance": None,
    }
    for event in events:
        data = event.data
        if event.type == RUN_STARTED:
            document.update(
                run_id=data["run_id"],
                job_id=data["job_id"],
                trigger=data["trigger"],
                requests=list(data.get("requests", [])),
                instance=data.get("instance"),
                started_at=event.recorded_at,
                position=event.position,
            )
        elif event.type == SOURCE_PROCESSED:
            document["sources"].append({"status": "ok", "error": None, **data})
        elif event.type == SOURCE_FAILED:
            document["sources"].append({"status": "failed", **data})
        elif event.type == RUN_FINISHED:
            document.update(
                status=data["status"],
                totals=dict(data["totals"]),
                duration_s=data["duration_s"],
                finished_at=event.recorded_at,
            )
    return document


def mark_interrupted(
    documents: Sequence[dict[str, Any]], dead_instances: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Runs (newest first) with status "interrupted" where a run never finished (no RunFinished:
    its process was killed or lost the database) and is known to be over: a later run of the
    same job has started, or the scheduler process that ran it is gone (`dead_instances`)."""
    later_started: set[Any] = set()
    marked = []
    for document in documents:
        over = document["job_id"] in later_started or document["instance"] in dead_instances
        if document["status"] == "running" and over:
            document = {**document, "status": "interrupted"}
        later_started.add(document["job_id"])
        marked.append(document)
    return marked
