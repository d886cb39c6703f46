"""Re-ingestion: run sources once and append what changed. One function serves the CLI
(`factstore reingest`), the scheduler's jobs and the API's run requests.

Per article a run decides:
- unchanged (same normalised content hash as stored, same extractor): nothing appended, and the
  article is not even extracted: hashes of a whole batch are compared with the `articles`
  projection in one query per 500 articles, which is what makes an unchanged re-run cheap;
- new or changed: the ingest service appends `ArticleIngested`/`ArticleRevised` and the claim
  diff (claims are matched across revisions by what they say, `catalog.claim_identity`);
- gone (a file removed from a directory source, a record removed from a jsonl file, HTTP
  404/410): `ArticleWithdrawn`, whose claims stop counting;
- a transient error (timeout, 5xx, refused): counted as a failed attempt, nothing else changes
  (in particular the article is not withdrawn).

A source that cannot be read at all (missing folder, malformed file, feed unreachable) fails as
a whole before anything of it is written, and the run goes on with the next source.

Each run is a stream `run-<uuid>`: RunStarted, one SourceProcessed or SourceFailed per source,
RunFinished. Which articles a source delivered last time is kept in `source_items`
(bookkeeping: see `factstore.ingest.models`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from factstore.domain import catalog, runs
from factstore.domain.articles import content_hash
from factstore.domain.events import NewEvent
from factstore.extraction import EXTRACTOR_VERSION
from factstore.ingest.models import source_items_table as si
from factstore.ingest.service import ingest
from factstore.ingest.sources import (
    ArticleInput,
    SourceError,
    article_id_for,
    read_paths,
    stream_id_for,
)
from factstore.ingest.sources_config import SourceConfig
from factstore.projections.models import articles_table
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import AppendRequest, EventStore

_CHUNK = 500
log = logging.getLogger(__name__)
PRESENT, WITHDRAWN = "present", "withdrawn"


class SourceUnavailable(Exception):
    """The source as a whole could not be read this time (recorded as SourceFailed)."""


class RunStopped(Exception):
    """The run may not go on (a scheduler that lost the leader lock): what was appended so far
    stays (each article's events are one atomic append), the rest is left to the next run."""


ShouldContinue = Callable[[], bool]


def _always() -> bool:
    return True


@dataclass(slots=True)
class Observation:
    """What one run saw of one article of a source."""

    stream_id: str
    article: ArticleInput | None = None  # fetched or read: compare and maybe append
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # seen | not_modified | gone | failed; a feed's own row: feed | feed_unchanged
    status: str = "seen"
    detail: str | None = None


@dataclass(slots=True)
class SourceReading:
    """Everything one source delivered in a run, read before anything is written."""

    observations: list[Observation] = field(default_factory=list)
    # Directory and jsonl sources list every article they hold: what is missing is gone.
    complete: bool = False


@dataclass(frozen=True, slots=True)
class SourceResult:
    source_id: str
    kind: str
    counts: runs.SourceCounts | None
    error: str | None


@dataclass(frozen=True, slots=True)
class RunReport:
    run_id: str
    job_id: str
    status: str  # ok | partial | failed
    sources: tuple[SourceResult, ...]
    totals: dict[str, int]
    duration_s: float


Reader = Callable[[SourceConfig, dict[str, dict[str, Any]]], SourceReading]


def run_sources(
    store: EventStore,
    runner: ProjectionRunner,
    sources: Sequence[SourceConfig],
    *,
    job_id: str,
    trigger: str,
    actor: str,
    requests: Sequence[str] = (),
    instance: str | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
    should_continue: ShouldContinue = _always,
) -> RunReport:
    """Run these sources once, now, in this process; the run is recorded as its own stream.
    `should_continue` is asked before each source and each article: once it says no, the run
    stops (RunStopped, recorded as the source's failure) and records its end."""

    def work(source: SourceConfig) -> Callable[[dict[str, Any]], SourceResult]:
        return lambda metadata: run_source(store, runner, source, metadata, should_continue)

    steps: list[Step] = [(s.id, s.kind, work(s)) for s in sources]
    return record_run(
        store,
        runner,
        steps,
        job_id=job_id,
        trigger=trigger,
        actor=actor,
        requests=requests,
        instance=instance,
        on_source=on_source,
        should_continue=should_continue,
    )


Step = tuple[str, str, Callable[[dict[str, Any]], "SourceResult"]]


def record_run(
    store: EventStore,
    runner: ProjectionRunner,
    steps: Sequence[Step],
    *,
    job_id: str,
    trigger: str,
    actor: str,
    requests: Sequence[str] = (),
    instance: str | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
    should_continue: ShouldContinue = _always,
) -> RunReport:
    """Run the steps (source id, kind, work) in order as one run, recorded in its stream."""
    run_id = str(uuid.uuid4())
    stream = runs.run_stream_id(run_id)
    started = time.monotonic()
    metadata = {"actor": actor, "source": f"job:{job_id}", "correlation_id": run_id}
    _record(
        store,
        stream,
        runs.RUN_STARTED,
        runs.run_started_data(
            run_id, job_id, trigger, [step[0] for step in steps], requests, instance
        ),
        metadata,
    )
    results = []
    for source_id, kind, work in steps:
        try:
            if not should_continue():
                raise RunStopped("stopped before this source")
            result = work({**metadata, "source": f"source:{source_id}"})
        except Exception as error:  # recorded, and the run goes on with the next source
            log.exception("source %s failed", source_id)
            result = SourceResult(source_id, kind, None, f"{type(error).__name__}: {error}")
        if result.counts is not None:
            data = runs.source_processed_data(source_id, kind, result.counts)
            _record(store, stream, runs.SOURCE_PROCESSED, data, metadata)
        else:
            data = runs.source_failed_data(source_id, kind, result.error or "failed")
            _record(store, stream, runs.SOURCE_FAILED, data, metadata)
        results.append(result)
        if on_source is not None:
            on_source(result)
    totals = {name: 0 for name in (*runs.COUNT_NAMES, "events_appended")}
    for result in results:
        if result.counts is not None:
            for name in totals:
                totals[name] += getattr(result.counts, name)
    failed_sources = sum(1 for r in results if r.counts is None)
    if failed_sources == 0 and totals["failed"] == 0:
        status = "ok"
    elif failed_sources == len(results):
        status = "failed"
    else:
        status = "partial"
    totals["failed_sources"] = failed_sources
    duration = time.monotonic() - started
    _record(
        store,
        stream,
        runs.RUN_FINISHED,
        runs.run_finished_data(status, totals, duration),
        metadata,
    )
    runner.catch_up()  # the run's own events too: projections show no lag after a run
    return RunReport(run_id, job_id, status, tuple(results), totals, duration)


RECORD_ATTEMPTS = 3


def _record(
    store: EventStore, stream: str, event_type: str, data: dict[str, Any], metadata: dict[str, Any]
) -> None:
    """Append one event of the run's stream, retried: a connection cut mid-run must not leave
    the run without its end (a new leader waits for a live process's unfinished run). The event
    id is fixed before the first attempt, so a retry of an append that did commit is a no-op."""
    event = NewEvent(event_type, data, metadata=dict(metadata))
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            store.append(stream, [event])
            return
        except OperationalError:
            if attempt == RECORD_ATTEMPTS:
                raise
            log.warning("run %s: %s not recorded, retrying", stream, event_type, exc_info=True)
            time.sleep(0.5 * attempt)


def run_source(
    store: EventStore,
    runner: ProjectionRunner,
    source: SourceConfig,
    metadata: dict[str, Any],
    should_continue: ShouldContinue = _always,
) -> SourceResult:
    """Read one source completely, then append what changed; failures come back as data."""
    known = _known_items(store, source.id)
    try:
        reading = READERS[source.kind](source, known)
    except (SourceUnavailable, SourceError, OSError) as error:
        return SourceResult(source.id, source.kind, None, _one_line(error))
    counts = runs.SourceCounts()
    runner.catch_up(["articles"])  # the hash comparison reads the articles projection
    _apply_reading(store, runner, source, reading, known, counts, metadata, should_continue)
    return SourceResult(source.id, source.kind, counts, None)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _apply_reading(
    store: EventStore,
    runner: ProjectionRunner,
    source: SourceConfig,
    reading: SourceReading,
    known: dict[str, dict[str, Any]],
    counts: runs.SourceCounts,
    metadata: dict[str, Any],
    should_continue: ShouldContinue = _always,
) -> None:
    fetched = [o for o in reading.observations if o.article is not None]
    for o in reading.observations:
        if o.status == "not_modified":
            counts.count("not_modified")
        elif o.status == "failed":
            counts.error(o.detail or f"{o.url or o.stream_id}: failed")
    changed = _changed_articles(store, fetched, counts)
    _note_new_items(store, source.id, changed, known)
    for outcome in ingest(
        store, _until_stopped(changed, should_continue), metadata=metadata, runner=runner
    ):
        counts.count(outcome.status)
        counts.events_appended += outcome.events_appended
        counts.claims_asserted += outcome.claims_asserted
        counts.claims_retracted += outcome.claims_retracted
    seen = {o.stream_id for o in reading.observations if o.status not in ("gone", "feed")}
    gone = {o.stream_id: o.detail for o in reading.observations if o.status == "gone"}
    if reading.complete:
        for stream_id, item in known.items():
            if item["status"] == PRESENT and stream_id not in seen:
                gone[stream_id] = f"no longer in source {source.id}"
    withdrawn = _withdraw(store, gone, metadata, counts)
    if withdrawn:
        runner.catch_up()
    _remember(store, source.id, reading.observations, set(gone), known)


def _until_stopped(
    articles: Iterable[ArticleInput], should_continue: ShouldContinue
) -> Iterator[ArticleInput]:
    for article in articles:
        if not should_continue():
            raise RunStopped("stopped mid-source")
        yield article


def _changed_articles(
    store: EventStore, observations: Sequence[Observation], counts: runs.SourceCounts
) -> list[ArticleInput]:
    """The articles whose content or extractor differs from what is stored (hashes compared in
    batches against the articles projection; nothing is extracted for the others)."""
    changed: list[ArticleInput] = []
    a = articles_table.c
    for start in range(0, len(observations), _CHUNK):
        chunk = observations[start : start + _CHUNK]
        with store.engine.connect() as conn:
            rows = {
                row.stream_id: row
                for row in conn.execute(
                    select(a.stream_id, a.content_hash, a.extractor_version, a.status).where(
                        a.stream_id.in_([o.stream_id for o in chunk])
                    )
                )
            }
        for observation in chunk:
            article = observation.article
            assert article is not None
            row = rows.get(observation.stream_id)
            if (
                row is not None
                and row.status == "active"
                and row.extractor_version == EXTRACTOR_VERSION
                and row.content_hash == _hash_of(article)
            ):
                counts.count("unchanged")
            else:
                changed.append(article)
    return changed


def _hash_of(article: ArticleInput) -> str:
    # The same fields the ingest service hashes (service.read_article).
    return content_hash(
        article.text,
        title=article.title,
        outlet=article.outlet,
        published_at=article.published_at,
        url=article.url,
    )


def _withdraw(
    store: EventStore,
    gone: dict[str, str | None],
    metadata: dict[str, Any],
    counts: runs.SourceCounts,
) -> int:
    """ArticleWithdrawn for each gone article that is stored and still active."""
    if not gone:
        return 0
    a = articles_table.c
    requests = []
    with store.engine.connect() as conn:
        ordered = sorted(gone)
        for start in range(0, len(ordered), _CHUNK):
            query = select(a.stream_id, a.article_id).where(
                a.stream_id.in_(ordered[start : start + _CHUNK]), a.status == "active"
            )
            active = dict(conn.execute(query).tuples().all())
            versions = store.stream_versions(set(active))
            for stream_id, article_id in active.items():
                version = versions[stream_id]
                event = NewEvent(
                    catalog.ARTICLE_WITHDRAWN,
                    runs.article_withdrawn_data(article_id, "gone", gone[stream_id]),
                    metadata=dict(metadata),
                    schema_version=catalog.CURRENT_SCHEMA[catalog.ARTICLE_WITHDRAWN],
                    event_id=catalog.deterministic_id(
                        stream_id, version + 1, catalog.ARTICLE_WITHDRAWN
                    ),
                )
                requests.append(AppendRequest(stream_id, [event], version))
    if requests:
        store.append_batch(requests)
    counts.withdrawn += len(requests)
    counts.events_appended += len(requests)
    return len(requests)


# --- source_items: what each source delivered last time --------------------------------------


def _known_items(store: EventStore, source_id: str) -> dict[str, dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(si).where(si.c.source_id == source_id)).mappings()
        return {row["stream_id"]: dict(row) for row in rows}


def _remember(
    store: EventStore,
    source_id: str,
    observations: Iterable[Observation],
    gone: set[str],
    known: dict[str, dict[str, Any]],
) -> None:
    now = datetime.now(UTC)
    rows: dict[str, dict[str, Any]] = {}
    for o in observations:
        row = {
            "source_id": source_id,
            "stream_id": o.stream_id,
            "url": o.url,
            "etag": o.etag,
            "last_modified": o.last_modified,
            "status": WITHDRAWN if o.stream_id in gone else PRESENT,
            "seen_at": now,
        }
        if o.status in ("not_modified", "failed", "feed_unchanged"):
            # Keep the validators of the last good fetch: only a success replaces them.
            row.pop("etag")
            row.pop("last_modified")
        rows[o.stream_id] = row
    for stream_id in gone - set(rows):
        rows[stream_id] = {
            "source_id": source_id,
            "stream_id": stream_id,
            "status": WITHDRAWN,
            "seen_at": now,
        }
    # Only what changed is written: an unchanged re-run of a large source writes nothing here.
    changed = [row for row in rows.values() if not _same_item(row, known.get(row["stream_id"]))]
    if not changed:
        return
    with store.engine.begin() as conn:
        _upsert_items(conn, changed)


def _note_new_items(
    store: EventStore,
    source_id: str,
    articles: Sequence[ArticleInput],
    known: dict[str, dict[str, Any]],
) -> None:
    """Before their events are appended, note the articles this source delivers that it did not
    list as present (new, or back after a withdrawal): a run killed after the append but before
    `_remember` must not leave an article the source never lists again, and so never withdraws.
    No validators yet: with them, a run killed before the append would get a 304 next time and
    never ingest the article."""
    now = datetime.now(UTC)
    rows = {
        stream_id_for(a.article_id): {
            "source_id": source_id,
            "stream_id": stream_id_for(a.article_id),
            "url": a.url,
            "etag": None,
            "last_modified": None,
            "status": PRESENT,
            "seen_at": now,
        }
        for a in articles
        if (known.get(stream_id_for(a.article_id)) or {}).get("status") != PRESENT
    }
    if rows:
        with store.engine.begin() as conn:
            _upsert_items(conn, list(rows.values()))


def _same_item(row: dict[str, Any], stored: dict[str, Any] | None) -> bool:
    if stored is None:
        return False
    return all(stored.get(k) == v for k, v in row.items() if k != "seen_at")


def _upsert_items(conn: Connection, rows: list[dict[str, Any]]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # Rows with the same set of columns go in one executemany.
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for columns, group in shapes.items():
        statement = dialect.insert(si)
        keys = ["source_id", "stream_id"]
        updates = {c: statement.excluded[c] for c in columns if c not in keys}
        conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), group)


# --- readers: one per kind --------------------------------------------------------------------


def _read_files(source: SourceConfig, known: dict[str, dict[str, Any]]) -> SourceReading:
    path = source.path
    assert path is not None
    if source.kind == "directory" and not path.is_dir():
        raise SourceUnavailable(f"{path}: no such folder")
    if source.kind == "jsonl" and not path.is_file():
        raise SourceUnavailable(f"{path}: no such file")
    reading = SourceReading(complete=True)
    for article in read_paths([path]):
        if source.outlet and not article.outlet:
            article = _with_outlet(article, source.outlet)
        reading.observations.append(
            Observation(stream_id_for(article.article_id), article, url=article.url)
        )
    return reading


def _with_outlet(article: ArticleInput, outlet: str) -> ArticleInput:
    return ArticleInput(
        article.article_id,
        article.text,
        article.title,
        outlet,
        article.published_at,
        article.url,
        article.source,
    )


FETCH_THREADS = 4
FEED_PREFIX = "feed-"  # source_items rows that hold a feed's own validators, not an article


def _policy(source: SourceConfig) -> Any:
    from factstore.ingest.fetch import FetchPolicy

    return FetchPolicy(
        allow_private=source.allow_private, allow_hosts=frozenset(source.allow_hosts)
    )


def _fetch_articles(
    source: SourceConfig,
    known: dict[str, dict[str, Any]],
    urls: Sequence[str],
    dated: dict[str, Any] | None = None,
) -> list[Observation]:
    """Fetch each URL with the validators of its last good fetch (conditional GET)."""
    from concurrent.futures import ThreadPoolExecutor

    from factstore.ingest.fetch import Fetched, FetchFailed, Gone, NotModified, fetch_article

    policy = _policy(source)

    def one(url: str) -> Observation:
        stream_id = stream_id_for(article_id_for(None, url, url))
        prior = known.get(stream_id)
        # A withdrawn article is fetched in full: a 304 must not keep it withdrawn.
        usable = prior is not None and prior["status"] == PRESENT
        try:
            outcome = fetch_article(
                url,
                policy=policy,
                etag=prior["etag"] if usable and prior else None,
                last_modified=prior["last_modified"] if usable and prior else None,
                outlet=source.outlet,
            )
        except Exception as error:  # one bad URL is a failed attempt, not a failed source
            outcome = FetchFailed(url, f"{type(error).__name__}: {error}")
        if isinstance(outcome, Fetched):
            article = outcome.article
            item = (dated or {}).get(url)
            if item is not None and (article.published_at is None or article.title is None):
                article = replace(
                    article,
                    published_at=article.published_at or (item.published_at or "")[:10] or None,
                    title=article.title or item.title,
                )
            return Observation(stream_id, article, url, outcome.etag, outcome.last_modified, "seen")
        if isinstance(outcome, NotModified):
            return Observation(stream_id, url=url, status="not_modified")
        if isinstance(outcome, Gone):
            return Observation(stream_id, url=url, status="gone", detail=f"HTTP {outcome.status}")
        assert isinstance(outcome, FetchFailed)
        return Observation(stream_id, url=url, status="failed", detail=f"{url}: {outcome.reason}")

    with ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:
        return list(pool.map(one, urls))


def _read_http(source: SourceConfig, known: dict[str, dict[str, Any]]) -> SourceReading:
    urls = list(dict.fromkeys(source.urls))[: source.max_items]
    return SourceReading(_fetch_articles(source, known, urls))


def _read_feeds(source: SourceConfig, known: dict[str, dict[str, Any]]) -> SourceReading:
    """Each feed's items are fetched as articles. An unchanged feed (304) still has its known
    items re-fetched conditionally, so an edited article is seen; an item that drops out of
    the feed is left as it is (feeds roll over), only a 404/410 withdraws it."""
    from factstore.ingest.fetch import FeedFetched, NotModified, fetch_feed

    reading = SourceReading()
    items: dict[str, Any] = {}
    known_items = [
        item["url"]
        for stream_id, item in sorted(known.items(), key=lambda kv: kv[1]["seen_at"], reverse=True)
        if not stream_id.startswith(FEED_PREFIX) and item["status"] == PRESENT and item["url"]
    ]
    for feed_url in source.urls:
        key = FEED_PREFIX + article_id_for(None, feed_url, feed_url)
        prior = known.get(key) or {}
        outcome = fetch_feed(
            feed_url,
            policy=_policy(source),
            etag=prior.get("etag"),
            last_modified=prior.get("last_modified"),
        )
        if isinstance(outcome, FeedFetched):
            items.update((item.url, item) for item in outcome.items)
            reading.observations.append(
                Observation(key, None, feed_url, outcome.etag, outcome.last_modified, "feed")
            )
        elif isinstance(outcome, NotModified):
            items.update((url, None) for url in known_items)
            reading.observations.append(Observation(key, url=feed_url, status="feed_unchanged"))
        else:
            detail = getattr(outcome, "reason", None) or f"HTTP {getattr(outcome, 'status', '?')}"
            raise SourceUnavailable(f"feed {feed_url}: {detail}")
    urls = list(items)[: source.max_items]
    reading.observations.extend(_fetch_articles(source, known, urls, items))
    return reading


READERS: dict[str, Reader] = {
    "directory": _read_files,
    "jsonl": _read_files,
    "http": _read_http,
    "feed": _read_feeds,
}
