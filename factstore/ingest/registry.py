"""The sources in force and the jobs that run them, read from the configuration file and the
log. Sources added over the API are events in the `sources` stream; each source is one job
(`reingest.<source id>`), and `reextract` is one more. Runs are read back from their streams."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from factstore.domain import runs
from factstore.domain.events import NewEvent, StreamState
from factstore.ingest import sources_config
from factstore.ingest.sources_config import (
    FILE_KINDS,
    REEXTRACT_JOB_ID,
    REINGEST_JOB_PREFIX,
    SourceConfig,
    SourceConfigError,
    SourceSet,
)
from factstore.store.errors import StoreError
from factstore.store.event_store import EventStore
from factstore.store.models import events_table as ev

REEXTRACT_INTERVAL_ENV = "FACTSTORE_REEXTRACT_INTERVAL"
DEFAULT_REEXTRACT_INTERVAL = "24h"


class SourceConflict(StoreError):
    """The source cannot be added or removed in its current state (id taken, defined in the
    file)."""


class SourceNotFound(StoreError):
    pass


class JobNotFound(StoreError):
    pass


def load_sources(
    store: EventStore, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> SourceSet:
    file_sources = sources_config.configured_sources(environ, cwd)
    added = sources_config.api_sources(store.read_stream(runs.SOURCES_STREAM))
    return sources_config.merge(file_sources, added)


def add_source(store: EventStore, raw: Mapping[str, Any], actor: str) -> SourceConfig:
    """Validate and record a source added over the API (http and feed kinds only)."""
    if raw.get("kind") in FILE_KINDS:
        raise SourceConfigError(
            f"kind {raw.get('kind')!r} reads the server's own files: configure it in the "
            "sources file, not over the API"
        )
    fields = dict(raw)
    for trusted in ("allow_private", "allow_hosts"):
        if trusted in fields:
            raise SourceConfigError(f"'{trusted}' can only be set in the sources file")
    if "schedule" in fields:  # the API's one schedule field; the file has interval or cron
        fields.update(sources_config.schedule_fields(str(fields.pop("schedule"))))
    source = sources_config.parse_source(fields, where="source", base=None, origin="api")
    events = store.read_stream(runs.SOURCES_STREAM)
    current = load_sources(store)
    if current.get(source.id) is not None:
        raise SourceConflict(f"a source {source.id!r} exists already")
    expected = events[-1].version if events else StreamState.NO_STREAM
    event = NewEvent(runs.SOURCE_ADDED, {"source": source.to_dict()}, metadata={"actor": actor})
    store.append(runs.SOURCES_STREAM, [event], expected)
    return source


def remove_source(store: EventStore, source_id: str, actor: str) -> None:
    current = load_sources(store).get(source_id)
    if current is None:
        raise SourceNotFound(f"no source {source_id!r}")
    if current.origin != "api":
        raise SourceConflict(
            f"source {source_id!r} is defined in the sources file: remove it there"
        )
    events = store.read_stream(runs.SOURCES_STREAM)
    event = NewEvent(runs.SOURCE_REMOVED, {"source_id": source_id}, metadata={"actor": actor})
    store.append(runs.SOURCES_STREAM, [event], events[-1].version)


def source_document(source: SourceConfig) -> dict[str, Any]:
    """A source as the API shows it: its fields, where it is defined, its job, its schedule."""
    return {
        **source.to_dict(),
        "origin": source.origin,
        "job_id": source.job_id,
        "schedule": source.schedule,
    }


def reextract_interval_s(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    raw = environ.get(REEXTRACT_INTERVAL_ENV) or DEFAULT_REEXTRACT_INTERVAL
    try:
        return sources_config.parse_interval(raw)
    except ValueError as error:
        raise SourceConfigError(f"{REEXTRACT_INTERVAL_ENV}: {error}") from error


def jobs(sources: SourceSet, reextract_every_s: int) -> list[dict[str, Any]]:
    """Every job: one per source, and re-extraction."""
    found: list[dict[str, Any]] = [
        {
            "id": source.job_id,
            "kind": "reingest",
            "schedule": source.schedule,
            "source": source_document(source),
        }
        for source in sources.sources
    ]
    found.append(
        {
            "id": REEXTRACT_JOB_ID,
            "kind": "reextract",
            "schedule": f"every {sources_config.format_interval(reextract_every_s)}",
            "source": None,
        }
    )
    return found


def check_job(sources: SourceSet, job_id: str) -> None:
    if job_id == REEXTRACT_JOB_ID:
        return
    if job_id.startswith(REINGEST_JOB_PREFIX) and sources.get(
        job_id.removeprefix(REINGEST_JOB_PREFIX)
    ):
        return
    raise JobNotFound(f"no job {job_id!r}")


def recent_runs(
    store: EventStore, job_id: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest runs (of one job, or of all), newest first, each summarised from its stream.
    RunStarted events are found through the (type, position) index; for one job, the database
    narrows them by text first (the stored data is canonical JSON: sorted keys, no spaces), and
    `_run_of` decides on the parsed data (a LIKE '_' matches any character)."""
    found: list[dict[str, Any]] = []
    before: int | None = None
    narrowed = []
    if job_id is not None:
        narrowed.append(ev.c.data.like(f'%"job_id":{json.dumps(job_id)}%'))
        source_id = job_id.removeprefix(REINGEST_JOB_PREFIX)
        if source_id != job_id:
            narrowed.append(ev.c.data.like(f'%"sources":[%{json.dumps(source_id)}%'))
    while len(found) < limit:
        query = (
            select(ev.c.stream_id, ev.c.data, ev.c.position)
            .where(ev.c.type == runs.RUN_STARTED)
            .order_by(ev.c.position.desc())
            .limit(200)
        )
        if narrowed:
            query = query.where(or_(*narrowed))
        if before is not None:
            query = query.where(ev.c.position < before)
        with store.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            break
        before = rows[-1].position
        for row in rows:
            if job_id is not None and not _run_of(json.loads(row.data), job_id):
                continue
            found.append(runs.summarise_run(store.read_stream(row.stream_id)))
            if len(found) == limit:
                break
    return runs.mark_interrupted(found, _dead_instances(store, found))


def _dead_instances(store: EventStore, documents: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """Scheduler processes of unfinished runs that stopped, or whose heartbeat is stale."""
    from factstore.ingest.models import heartbeats_table as hb
    from factstore.ingest.scheduler import DEFAULT_HEARTBEAT_S, STALE_AFTER_BEATS

    unfinished = {d["instance"] for d in documents if d["status"] == "running" and d["instance"]}
    if not unfinished:
        return frozenset()
    fresh_after = datetime.now(UTC) - timedelta(seconds=DEFAULT_HEARTBEAT_S * STALE_AFTER_BEATS)
    query = select(hb.c.instance).where(
        hb.c.instance.in_(unfinished),
        or_(hb.c.role == "stopped", hb.c.beat_at < fresh_after),
    )
    with store.engine.connect() as conn:
        return frozenset(conn.execute(query).scalars())


def _run_of(started: Mapping[str, Any], job_id: str) -> bool:
    """A run belongs to its job, and a command-line run of several sources to each source's."""
    if started.get("job_id") == job_id:
        return True
    source_id = job_id.removeprefix(REINGEST_JOB_PREFIX)
    return job_id != source_id and source_id in started.get("sources", ())


def request_run(store: EventStore, job_id: str, actor: str) -> str:
    """Record a request to run a job now; the scheduler's leader picks it up within seconds."""
    import uuid

    request_id = str(uuid.uuid4())
    event = NewEvent(
        runs.RUN_REQUESTED, {"request_id": request_id, "job_id": job_id}, metadata={"actor": actor}
    )
    store.append(runs.RUN_REQUESTS_STREAM, [event])
    return request_id
