"""Re-extraction on both backends: an article stored by an older extractor is read again from
its stored text; the claim diff is appended (reason `reextraction`), the content hash stays, and
a second pass finds nothing to do."""

from __future__ import annotations

from dataclasses import replace

from factstore.domain import article_stream, catalog
from factstore.domain.events import StreamState
from factstore.extraction import EXTRACTOR_VERSION
from factstore.ingest.reextract import reextract_all
from factstore.ingest.registry import recent_runs
from factstore.ingest.service import read_article
from factstore.ingest.sources import ArticleInput
from factstore.projections import default_runner, queries
from factstore.store.event_store import EventStore

TEXT = (
    "At least 20 civilians were killed in an air strike on Raqqa on Thursday, the Syrian "
    "Observatory said. Separately, 300 families fled Mosul on Thursday, the UN said."
)
TOPIC = "incident.killed.civilians.raqqa.2017-06-29"


def test_reextract_appends_the_claim_diff_of_the_new_extractor(store: EventStore) -> None:
    runner = default_runner(store)
    article = ArticleInput("wire-1", TEXT, outlet="Wire", published_at="2017-06-29")
    current = read_article(article)
    toll, displaced = current.claims
    # As an older extractor stored it: it misread the toll and missed the Mosul claim.
    old = replace(current, extractor_version="2.9.0+old", claims=(replace(toll, value=2),))
    planned = article_stream.plan(article_stream.ArticleState("article-wire-1"), old, {})
    store.append("article-wire-1", planned.events, StreamState.NO_STREAM)
    runner.catch_up()
    assert queries.topic_figure(store.engine, TOPIC)["figure"]["value"] == 2  # type: ignore[index]

    report = reextract_all(store, runner, actor="tester", trigger="cli")
    counts = report.sources[0].counts
    assert counts is not None
    assert (counts.revised, counts.claims_retracted, counts.claims_asserted) == (1, 1, 2)
    events = store.read_stream("article-wire-1")
    head, retraction = events[2], events[3]
    assert head.type == catalog.ARTICLE_REVISED
    assert head.data["extractor_version"] == EXTRACTOR_VERSION
    assert head.data["content_hash"] == current.content_hash  # the text did not change
    assert retraction.type == catalog.CLAIM_RETRACTED
    assert retraction.data["reason"] == "reextraction"
    assert queries.topic_figure(store.engine, TOPIC)["figure"]["value"] == 20  # type: ignore[index]
    assert queries.topic_figure(store.engine, displaced.topic) is not None

    again = reextract_all(store, runner, actor="tester", trigger="cli")
    assert again.sources[0].counts is not None
    assert again.sources[0].counts.events_appended == 0
    assert [r["job_id"] for r in recent_runs(store, "reextract")] == ["reextract", "reextract"]
