"""A realistic, reproducible event log for the projection benchmark, built from real articles.

1. **Extraction, once.** Every article of the corpus (`news-2016.jsonl.gz`, read in place and
   streamed) and of `seeds/` goes through `factstore.ingest.service.read_article` (the real
   extractor). The readings (provenance, text, claims) are cached in a pickle in the temp
   directory, keyed by the extractor version; nothing is written into the repository.
2. **Editions.** The log replays those articles as many editions, each its own stream, built with
   the domain's own builders (`article_stream.plan`, `catalog.*_data`) exactly as ingestion would
   and written in bulk with `EventStore.append_batch`:
   - which article: Zipf-weighted over the articles that state claims (a few stories are
     republished thousands of times, most a handful), and a share of claimless articles;
   - when: half the editions are same-day reprints, half move the story by up to 18 months:
     publication date, every claim's `as_of`/`valid_from`, and the date in incident topics
     (`incident.killed.people.brussels.2016-03-22`) move together, so dated topics multiply while
     undated ones (`total.killed.people.unknown`) keep growing: a few topics get thousands of
     claims, most get a few;
   - who: a random outlet, and a share of claims re-attributed (UN, ministries, police,
     monitors, propaganda outlets, named people, the article's own voice);
   - figures: a share of claims restate the figure scaled by 0.8–1.25 (bounds scaled alike).
3. **Follow-ups** on recent editions: revisions that change figures (`ArticleRevised`, then
   `ClaimRetracted` + `ClaimAsserted` for the changed claims, from `article_stream.plan`), analyst
   ranks (`ClaimRanked` preferred/deprecated/normal), analyst retractions and withdrawals.

Deterministic for a given seed and extraction.
"""

from __future__ import annotations

import bisect
import dataclasses
import gzip
import itertools
import json
import pickle
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from factstore.domain import article_stream, catalog
from factstore.domain.articles import content_hash
from factstore.domain.claims import Claim
from factstore.domain.events import ExpectedVersion, NewEvent, StreamState
from factstore.extraction import EXTRACTOR_VERSION
from factstore.ingest.service import read_article
from factstore.ingest.sources import article_from_record, read_paths
from factstore.store.event_store import AppendRequest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "news-2016.jsonl.gz"
SEEDS = ROOT / "seeds"

OUTLETS = (
    "Reuters",
    "AP",
    "AFP",
    "BBC",
    "Al Jazeera",
    "The Guardian",
    "CNN",
    "Washington Post",
    "New York Times",
    "ABC News",
    "Rudaw",
    "Kurdistan 24",
    "Anadolu",
    "France 24",
)
ATTRIBUTIONS = (
    None,
    "the United Nations",
    "UNHCR",
    "the Syrian Observatory for Human Rights",
    "the Red Cross",
    "the Ministry of Health",
    "police",
    "the Iraqi army",
    "a military spokesman",
    "the governor",
    "local officials",
    "witnesses",
    "Amaq",
    "Lt Gen Abdul Amir Yarallah",
    "a hospital director",
)
DATED_TOPIC = re.compile(r"^(.*)\.(\d{4}-\d{2}-\d{2})$")

# Shares of the operations after the first edition (the rest are new editions).
REVISION_SHARE = 0.08
RANK_SHARE = 0.05
RETRACT_SHARE = 0.02
WITHDRAW_SHARE = 0.01
CLAIMLESS_SHARE = 0.25  # of new editions: an article in which the extractor found nothing
SAME_DAY_SHARE = 0.5  # of new editions: a reprint on the original date
RECENT = 20_000  # follow-ups pick among the last RECENT editions


@dataclass(frozen=True, slots=True)
class SourceArticle:
    article_id: str
    title: str | None
    outlet: str | None
    url: str | None
    published: date
    text: str
    claims: tuple[Claim, ...]


def extract_corpus(cache_dir: Path | None = None, limit: int | None = None) -> list[SourceArticle]:
    """Every corpus and seed article with its extracted claims (cached per extractor version)."""
    cache_dir = cache_dir or Path(tempfile.gettempdir())
    tag = re.sub(r"[^A-Za-z0-9.]+", "_", EXTRACTOR_VERSION)
    cache = cache_dir / f"factstore-projection-bench-{tag}-{limit or 'all'}.pickle"
    if cache.exists():
        with cache.open("rb") as handle:
            cached: list[SourceArticle] = pickle.load(handle)
        print(f"  extraction: {len(cached):,} articles from cache {cache}", file=sys.stderr)
        return cached
    start = time.perf_counter()
    articles: list[SourceArticle] = []
    for number, article in enumerate(itertools.chain(_corpus(), read_paths([SEEDS]))):
        if limit is not None and number >= limit:
            break
        reading = read_article(article)
        published = _date(reading.provenance.published_at) or date(2016, 1, 1)
        articles.append(
            SourceArticle(
                article_id=article.article_id,
                title=reading.provenance.title,
                outlet=reading.provenance.outlet,
                url=reading.provenance.url,
                published=published,
                text=article.text,
                claims=tuple(reading.claims),
            )
        )
        if number % 250 == 0:
            sys.stderr.write(f"\r  extracting claims: {number:,} articles")
    seconds = time.perf_counter() - start
    sys.stderr.write(f"\r  extracting claims: {len(articles):,} articles in {seconds:.1f} s\n")
    with cache.open("wb") as handle:
        pickle.dump(articles, handle)
    return articles


def _corpus() -> Iterator[Any]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield article_from_record(
                    json.loads(line), where=f"{CORPUS}:{number}", fallback_id=f"news-{number}"
                )


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _shift(day: str | None, days: int) -> str | None:
    if not days or day is None:
        return day
    parsed = _date(day)
    return day if parsed is None else (parsed + timedelta(days=days)).isoformat()


@dataclass(slots=True)
class _Edition:
    stream_id: str
    source: SourceArticle
    reading: article_stream.ArticleReading
    state: article_stream.ArticleState
    revisions: int = 0


@dataclass(slots=True)
class LogShape:
    events_by_type: dict[str, int] = field(default_factory=dict)
    editions: int = 0
    operations: dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(self.events_by_type.values())


class LogGenerator:
    """Yields batches of append requests; `shape` counts what was generated so far."""

    def __init__(self, articles: Sequence[SourceArticle], seed: int = 2016) -> None:
        self.rng = random.Random(seed)
        with_claims = [a for a in articles if a.claims]
        self.claimless = [a for a in articles if not a.claims] or with_claims
        self.rng.shuffle(with_claims)
        self.with_claims = with_claims
        # Zipf(1.1) over a random order of the articles that state claims.
        weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(with_claims))]
        self.cumulative = list(itertools.accumulate(weights))
        self.recent: list[_Edition] = []
        self.shape = LogShape()
        self.metadata = {"actor": "bench"}

    def batches(self, streams_per_batch: int = 500) -> Iterator[list[AppendRequest]]:
        while True:
            requests: dict[str, AppendRequest] = {}
            followed: list[_Edition] = []
            for _ in range(streams_per_batch):
                self._operation(requests, followed)
            for edition in followed:  # into `recent` only after this batch: one request each
                self._remember(edition)
            yield list(requests.values())

    # --- operations -----------------------------------------------------------------------------

    def _operation(self, requests: dict[str, AppendRequest], followed: list[_Edition]) -> None:
        roll = self.rng.random()
        candidates = [e for e in self._sample_recent(3) if e.stream_id not in requests]
        target = candidates[0] if candidates else None
        if target is not None and roll < REVISION_SHARE:
            self._revise(target, requests)
        elif target is not None and roll < REVISION_SHARE + RANK_SHARE:
            self._rank(target, requests)
        elif target is not None and roll < REVISION_SHARE + RANK_SHARE + RETRACT_SHARE:
            self._retract(target, requests)
        elif target is not None and roll < (
            REVISION_SHARE + RANK_SHARE + RETRACT_SHARE + WITHDRAW_SHARE
        ):
            self._withdraw(target, requests)
        else:
            followed.append(self._new_edition(requests))

    def _sample_recent(self, count: int) -> list[_Edition]:
        if not self.recent:
            return []
        return [self.recent[self.rng.randrange(len(self.recent))] for _ in range(count)]

    def _remember(self, edition: _Edition) -> None:
        if len(self.recent) < RECENT:
            self.recent.append(edition)
        else:
            self.recent[self.rng.randrange(RECENT)] = edition

    def _pick_article(self) -> SourceArticle:
        if self.rng.random() < CLAIMLESS_SHARE:
            return self.claimless[self.rng.randrange(len(self.claimless))]
        point = self.rng.random() * self.cumulative[-1]
        return self.with_claims[bisect.bisect_left(self.cumulative, point)]

    def _new_edition(self, requests: dict[str, AppendRequest]) -> _Edition:
        source = self._pick_article()
        number = self.shape.editions
        self.shape.editions += 1
        days = 0 if self.rng.random() < SAME_DAY_SHARE else self.rng.randint(-60, 480)
        outlet = self.rng.choice(OUTLETS)
        published = (source.published + timedelta(days=days)).isoformat()
        stream_id = f"article-{source.article_id}-e{number}"
        provenance = catalog.ArticleProvenance(
            article_id=f"{source.article_id}-e{number}",
            title=source.title,
            outlet=outlet,
            url=None if source.url is None else f"{source.url}#e{number}",
            published_at=published,
        )
        claims = tuple(self._vary(claim, days) for claim in source.claims)
        reading = self._reading(provenance, source.text, claims)
        state = article_stream.ArticleState(stream_id)
        planned = article_stream.plan(state, reading, self.metadata)
        self._add(requests, stream_id, state, planned.events, "edition")
        return _Edition(stream_id, source, reading, article_stream.advance(state, planned.events))

    def _vary(self, claim: Claim, days: int) -> Claim:
        rng = self.rng
        changes: dict[str, Any] = {}
        if days:
            changes["as_of"] = _shift(claim.as_of, days)
            changes["valid_from"] = _shift(claim.valid_from, days)
            dated = DATED_TOPIC.match(claim.topic)
            if dated:
                changes["topic"] = f"{dated.group(1)}.{_shift(dated.group(2), days)}"
        if rng.random() < 0.3:
            changes["attributed_to"] = rng.choice(ATTRIBUTIONS)
        if rng.random() < 0.4:
            changes.update(_scaled(claim, rng.uniform(0.8, 1.25)))
        return dataclasses.replace(claim, **changes) if changes else claim

    def _reading(
        self, provenance: catalog.ArticleProvenance, text: str, claims: tuple[Claim, ...]
    ) -> article_stream.ArticleReading:
        return article_stream.ArticleReading(
            provenance=provenance,
            text=text,
            content_hash=content_hash(
                text,
                title=provenance.title,
                outlet=provenance.outlet,
                published_at=provenance.published_at,
                url=provenance.url,
            ),
            source="bench",
            extractor_version=EXTRACTOR_VERSION,
            claims=claims,
        )

    def _revise(self, edition: _Edition, requests: dict[str, AppendRequest]) -> None:
        """A corrected edition: some figures change (the old claims are retracted)."""
        edition.revisions += 1
        old = edition.reading
        claims = tuple(
            dataclasses.replace(c, **_scaled(c, self.rng.uniform(0.7, 1.5)))
            if self.rng.random() < 0.5
            else c
            for c in old.claims
        )
        text = f"{old.text}\n\n(Updated {edition.revisions}: figures revised.)"
        reading = self._reading(old.provenance, text, claims)
        planned = article_stream.plan(edition.state, reading, self.metadata)
        self._add(requests, edition.stream_id, edition.state, planned.events, "revision")
        edition.reading = reading
        edition.state = article_stream.advance(edition.state, planned.events)

    def _rank(self, edition: _Edition, requests: dict[str, AppendRequest]) -> None:
        if not edition.state.active_claims:
            return
        claim_id = self.rng.choice(sorted(edition.state.active_claims))
        rank = self.rng.choice(("preferred", "preferred", "deprecated", "normal"))
        data = catalog.claim_ranked_data(claim_id, rank, "checked against the source")
        self._analyst(edition, requests, catalog.CLAIM_RANKED, data, "rank")

    def _retract(self, edition: _Edition, requests: dict[str, AppendRequest]) -> None:
        if not edition.state.active_claims:
            return
        claim_id = self.rng.choice(sorted(edition.state.active_claims))
        data = catalog.claim_retracted_data(claim_id, "analyst", "misread figure")
        self._analyst(edition, requests, catalog.CLAIM_RETRACTED, data, "retraction")

    def _withdraw(self, edition: _Edition, requests: dict[str, AppendRequest]) -> None:
        if edition.state.withdrawn:
            return
        data = {"article_id": edition.reading.provenance.article_id, "reason": "publisher"}
        self._analyst(edition, requests, catalog.ARTICLE_WITHDRAWN, data, "withdrawal")

    def _analyst(
        self,
        edition: _Edition,
        requests: dict[str, AppendRequest],
        event_type: str,
        data: dict[str, Any],
        operation: str,
    ) -> None:
        event = NewEvent(
            type=event_type,
            schema_version=catalog.CURRENT_SCHEMA[event_type],
            event_id=catalog.deterministic_id(edition.stream_id, edition.state.version + 1),
            metadata={"actor": "analyst"},
            data=data,
        )
        self._add(requests, edition.stream_id, edition.state, (event,), operation)
        edition.state = article_stream.advance(edition.state, (event,))

    def _add(
        self,
        requests: dict[str, AppendRequest],
        stream_id: str,
        state: article_stream.ArticleState,
        events: Sequence[NewEvent],
        operation: str,
    ) -> None:
        if not events:
            return
        expected: ExpectedVersion = state.version if state.exists else StreamState.NO_STREAM
        requests[stream_id] = AppendRequest(stream_id, tuple(events), expected)
        self.shape.operations[operation] = self.shape.operations.get(operation, 0) + 1
        for event in events:
            self.shape.events_by_type[event.type] = self.shape.events_by_type.get(event.type, 0) + 1


def _scaled(claim: Claim, factor: float) -> dict[str, Any]:
    def scale(x: float | int | None) -> Any:
        if x is None:
            return None
        y = x * factor
        return round(y) if float(x).is_integer() else round(y, 2)

    value = scale(claim.value)
    lower, upper = scale(claim.lower), scale(claim.upper)
    if lower is not None and upper is not None and lower > upper:
        lower, upper = upper, lower
    return {"value": value, "lower": lower, "upper": upper}
