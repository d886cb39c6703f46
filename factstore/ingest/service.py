"""Ingestion: articles in, events appended. One article is one atomic append to its stream;
many articles go in one transaction when loading in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from factstore.domain.articles import (
    ARTICLE_EVENT_TYPES,
    ARTICLE_INGESTED,
    ARTICLE_REVISED,
    article_data,
    content_hash,
    event_id_for,
)
from factstore.domain.events import NewEvent, StreamState
from factstore.ingest.sources import ArticleInput, stream_id_for
from factstore.store.event_store import AppendRequest, EventStore


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    article_id: str
    stream_id: str
    status: str  # "new" | "revised" | "unchanged"
    version: int
    events_appended: int
    source: str | None


def ingest(
    store: EventStore,
    articles: Iterable[ArticleInput],
    *,
    metadata: dict[str, Any] | None = None,
    batch_size: int = 200,
) -> Iterator[IngestOutcome]:
    """Append the events for each article; yields one outcome per article, in input order."""
    iterator = iter(articles)
    while batch := list(islice(iterator, batch_size)):
        yield from _ingest_batch(store, batch, metadata or {})


def _ingest_batch(
    store: EventStore, batch: Sequence[ArticleInput], metadata: dict[str, Any]
) -> list[IngestOutcome]:
    # The last article (content) event and the version of each stream that already exists.
    known: dict[str, tuple[int, str | None]] = {}
    for stream_id, version in store.stream_versions(
        {stream_id_for(a.article_id) for a in batch}
    ).items():
        last = store.last_event_of_types(stream_id, ARTICLE_EVENT_TYPES)
        known[stream_id] = (version, None if last is None else last.data.get("content_hash"))

    requests: list[AppendRequest] = []
    # Per article: its stream, and the index of its append request (None: nothing to append).
    plans: list[tuple[ArticleInput, str, int | None]] = []
    for article in batch:
        stream_id = stream_id_for(article.article_id)
        digest = content_hash(
            article.text,
            title=article.title,
            outlet=article.outlet,
            published_at=article.published_at,
            url=article.url,
        )
        version, previous = known.get(stream_id, (0, None))
        if previous == digest:
            plans.append((article, stream_id, None))
            continue
        event_type = ARTICLE_INGESTED if stream_id not in known else ARTICLE_REVISED
        data = article_data(
            article_id=article.article_id,
            text=article.text,
            content_hash=digest,
            title=article.title,
            outlet=article.outlet,
            published_at=article.published_at,
            url=article.url,
            source=article.source,
        )
        events = [
            NewEvent(
                type=event_type,
                data=data,
                metadata=metadata,
                event_id=event_id_for(stream_id, version + 1, event_type, digest),
            )
        ]
        expected = StreamState.NO_STREAM if stream_id not in known else version
        plans.append((article, stream_id, len(requests)))
        requests.append(AppendRequest(stream_id, events, expected))
        known[stream_id] = (version + len(events), digest)

    results = store.append_batch(requests) if requests else []
    outcomes = []
    for article, stream_id, index in plans:
        result = None if index is None else results[index]
        if result is None or not result.written:
            status, version, appended = "unchanged", known[stream_id][0], 0
        else:
            first = result.events[0].type
            status = "new" if first == ARTICLE_INGESTED else "revised"
            version, appended = result.version, len(result.events)
        outcomes.append(
            IngestOutcome(article.article_id, stream_id, status, version, appended, article.source)
        )
    return outcomes
