"""Ingestion: read an article, extract its claims, append what changed, update projections.

One article is one atomic append to its stream (its article event and claim events together);
a batch of articles goes in one transaction when loading in bulk. Event ids are derived from
content, so a retried or racing ingest of the same article cannot duplicate it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from factstore.domain import article_stream, catalog
from factstore.domain.articles import content_hash, date_or_none
from factstore.domain.events import StreamState
from factstore.extraction import EXTRACTOR_VERSION, extract
from factstore.ingest.sources import ArticleInput, stream_id_for
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import AppendRequest, EventStore


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    article_id: str
    stream_id: str
    status: str  # "new" | "revised" | "unchanged"
    version: int
    events_appended: int
    claims_asserted: int
    claims_retracted: int
    source: str | None


def read_article(article: ArticleInput) -> article_stream.ArticleReading:
    """Extract the article's claims; metadata the caller gave wins over what the text says."""
    published = date_or_none(article.published_at)
    result = extract(
        article.text, published_at=published, outlet=article.outlet, title=article.title
    )
    parsed = result.article
    published_at = article.published_at or (
        parsed.published_at.isoformat() if parsed.published_at is not None else None
    )
    provenance = catalog.ArticleProvenance(
        article_id=article.article_id,
        title=article.title or parsed.title,
        outlet=article.outlet,
        url=article.url,
        published_at=published_at,
    )
    return article_stream.ArticleReading(
        provenance=provenance,
        text=article.text,
        content_hash=content_hash(
            article.text,
            title=article.title,
            outlet=article.outlet,
            published_at=article.published_at,
            url=article.url,
        ),
        source=article.source,
        extractor_version=EXTRACTOR_VERSION,
        claims=tuple(result.claims),
    )


def ingest(
    store: EventStore,
    articles: Iterable[ArticleInput],
    *,
    metadata: dict[str, Any] | None = None,
    batch_size: int = 200,
    runner: ProjectionRunner | None = None,
) -> Iterator[IngestOutcome]:
    """Append the events for each article; yields one outcome per article, in input order.
    With a runner, projections are brought up to date after each batch (inline mode)."""
    iterator = iter(articles)
    while batch := list(islice(iterator, batch_size)):
        yield from _ingest_batch(store, batch, metadata or {})
        if runner is not None:
            runner.catch_up()


def _ingest_batch(
    store: EventStore, batch: Sequence[ArticleInput], metadata: dict[str, Any]
) -> list[IngestOutcome]:
    streams = {stream_id_for(a.article_id) for a in batch}
    states = {
        stream_id: article_stream.fold(stream_id, store.read_stream(stream_id))
        for stream_id in store.stream_versions(streams)
    }
    requests: list[AppendRequest] = []
    # Per article: its stream, its plan, and the index of its append request (None: nothing).
    plans: list[tuple[ArticleInput, str, article_stream.Plan, int | None]] = []
    for article in batch:
        stream_id = stream_id_for(article.article_id)
        state = states.get(stream_id) or article_stream.ArticleState(stream_id)
        planned = article_stream.plan(state, read_article(article), metadata)
        if not planned.events:
            plans.append((article, stream_id, planned, None))
            continue
        expected = state.version if state.exists else StreamState.NO_STREAM
        plans.append((article, stream_id, planned, len(requests)))
        requests.append(AppendRequest(stream_id, planned.events, expected))
        # A second copy of the article later in this batch sees this one as stored.
        states[stream_id] = article_stream.advance(state, planned.events)

    results = store.append_batch(requests) if requests else []
    outcomes = []
    for article, stream_id, planned, index in plans:
        result = None if index is None else results[index]
        if result is None or not result.written:
            version = states[stream_id].version if stream_id in states else 0
            status, appended, asserted, retracted = "unchanged", 0, 0, 0
        else:
            version, appended = result.version, len(result.events)
            status, asserted, retracted = planned.status, planned.asserted, planned.retracted
        outcomes.append(
            IngestOutcome(
                article.article_id,
                stream_id,
                status,
                version,
                appended,
                asserted,
                retracted,
                article.source,
            )
        )
    return outcomes
