"""Re-extraction (`factstore reextract`, and the scheduler's `reextract` job): every active
article whose stored `extractor_version` differs from the current extractor is read again from
its own stored text, and the difference is appended the same way as for an edit:
`ArticleRevised` (same content hash, new extractor version) and the claim diff, with reason
`reextraction` for claims the new extractor no longer finds. Recorded as a run of job
`reextract`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import or_, select

from factstore.domain import article_stream, catalog, runs
from factstore.domain.articles import date_or_none
from factstore.domain.events import RecordedEvent
from factstore.extraction import EXTRACTOR_VERSION, extract
from factstore.ingest.reingest import RunReport, SourceResult, record_run
from factstore.ingest.sources_config import REEXTRACT_JOB_ID
from factstore.projections.models import articles_table
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import AppendRequest, EventStore

BATCH = 200


def outdated_streams(store: EventStore) -> list[str]:
    """Active articles extracted by another extractor version (or never extracted)."""
    a = articles_table.c
    query = (
        select(a.stream_id)
        .where(
            a.status == "active",
            or_(a.extractor_version.is_(None), a.extractor_version != EXTRACTOR_VERSION),
        )
        .order_by(a.stream_id)
    )
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def reading_from_stored(events: Sequence[RecordedEvent]) -> article_stream.ArticleReading | None:
    """The article as last stored (text, provenance, hash), read by the current extractor."""
    content = None
    for event in events:
        if event.type in catalog.ARTICLE_CONTENT_EVENTS:
            content = catalog.upcast(event.type, event.schema_version, event.data)
    if content is None:
        return None
    provenance = catalog.ArticleProvenance(
        article_id=content["article_id"],
        title=content.get("title"),
        outlet=content.get("outlet"),
        url=content.get("url"),
        published_at=content.get("published_at"),
    )
    result = extract(
        content["text"],
        published_at=date_or_none(provenance.published_at),
        outlet=provenance.outlet,
        title=provenance.title,
    )
    return article_stream.ArticleReading(
        provenance=provenance,
        text=content["text"],
        # The content did not change: its hash stays, only the extractor version moves on.
        content_hash=content["content_hash"],
        source=content.get("source"),
        extractor_version=EXTRACTOR_VERSION,
        claims=tuple(result.claims),
    )


def reextract_streams(
    store: EventStore,
    runner: ProjectionRunner,
    stream_ids: Sequence[str],
    metadata: dict[str, Any],
) -> runs.SourceCounts:
    counts = runs.SourceCounts()
    for start in range(0, len(stream_ids), BATCH):
        requests = []
        tallies = []
        for stream_id in stream_ids[start : start + BATCH]:
            events = store.read_stream(stream_id)
            state = article_stream.fold(stream_id, events)
            reading = reading_from_stored(events)
            if reading is None or state.withdrawn:
                continue
            planned = article_stream.plan(state, reading, metadata)
            if not planned.events:
                counts.count("unchanged")
                continue
            requests.append(AppendRequest(stream_id, planned.events, state.version))
            tallies.append(planned)
        if requests:
            store.append_batch(requests)
            runner.catch_up()
        for planned in tallies:
            counts.count("revised")
            counts.events_appended += len(planned.events)
            counts.claims_asserted += planned.asserted
            counts.claims_retracted += planned.retracted
    return counts


def reextract_all(
    store: EventStore,
    runner: ProjectionRunner,
    *,
    actor: str,
    trigger: str,
    requests: Sequence[str] = (),
    instance: str | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
) -> RunReport:
    def work(metadata: dict[str, Any]) -> SourceResult:
        runner.catch_up(["articles"])
        counts = reextract_streams(store, runner, outdated_streams(store), metadata)
        return SourceResult(REEXTRACT_JOB_ID, "reextract", counts, None)

    return record_run(
        store,
        runner,
        [(REEXTRACT_JOB_ID, "reextract", work)],
        job_id=REEXTRACT_JOB_ID,
        trigger=trigger,
        actor=actor,
        requests=requests,
        instance=instance,
        on_source=on_source,
    )
