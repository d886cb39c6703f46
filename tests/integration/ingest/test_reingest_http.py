"""Re-ingestion of http and feed sources from a real HTTP server on loopback whose articles
change between runs (both backends): conditional GETs append nothing for unchanged pages, an
edited toll becomes a revision with both figures in the topic history, a 410 withdraws, a 5xx is
a failed attempt that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from factstore.domain import catalog, runs
from factstore.ingest.reingest import run_sources
from factstore.ingest.sources import article_id_for, stream_id_for
from factstore.ingest.sources_config import SourceConfig
from factstore.projections import default_runner, queries
from factstore.store.event_store import EventStore
from tests.support.http_server import ArticleServer, serve_articles

TOPIC = "incident.killed.civilians.raqqa.2017-06-29"


def page(title: str, toll: str, place: str = "Raqqa") -> str:
    return f"""<!DOCTYPE html><html><head><title>{title} | Example News</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2017-06-29T18:00:00Z"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<main><article><h1>{title}</h1>
<p>{toll} civilians were killed in an air strike on {place} on Thursday, the Syrian Observatory
for Human Rights said, adding that the toll could rise as rescuers searched the rubble.</p>
<p>The strike hit a market in the east of the city during the morning, residents said, and
several buildings collapsed on shoppers and traders.</p>
</article></main><footer>Copyright 2017 Example News Ltd.</footer></body></html>"""


def rss(server: ArticleServer, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>Story {p}</title><link>{server.url(p)}</link>"
        "<pubDate>Thu, 29 Jun 2017 18:00:00 GMT</pubDate></item>"
        for p in paths
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Example</title>'
        f"<link>{server.url('/')}</link><description>News</description>{items}</channel></rss>"
    )


@pytest.fixture
def server() -> Iterator[ArticleServer]:
    with serve_articles() as running:
        yield running


def counts_of(store: EventStore, *sources: SourceConfig) -> list[runs.SourceCounts]:
    report = run_sources(
        store, default_runner(store), sources, job_id="t", trigger="cli", actor="t"
    )
    found = []
    for result in report.sources:
        assert result.counts is not None, result.error
        found.append(result.counts)
    return found


def stream_of(url: str) -> str:
    return stream_id_for(article_id_for(None, url, url))


def test_http_and_feed_sources_follow_a_changing_server(
    store: EventStore, server: ArticleServer
) -> None:
    server.set("/raqqa", page("Air strike on Raqqa", "At least 20"))
    server.set("/other", page("Another strike", "At least 7", "Mosul"))
    server.set("/f1", page("Feed story one", "At least 3", "Aleppo"))
    server.set("/f2", page("Feed story two", "At least 4", "Homs"))
    server.set("/feed.xml", rss(server, ["/f1", "/f2"]), content_type="application/rss+xml")
    allowed = (server.authority,)
    http = SourceConfig(
        id="site",
        kind="http",
        urls=(server.url("/raqqa"), server.url("/other")),
        interval_s=60,
        allow_hosts=allowed,
    )
    feed = SourceConfig(
        id="feed", kind="feed", urls=(server.url("/feed.xml"),), interval_s=60, allow_hosts=allowed
    )

    site, fed = counts_of(store, http, feed)
    assert (site.new, fed.new) == (2, 2)
    assert queries.topic_figure(store.engine, TOPIC)["figure"]["value"] == 20  # type: ignore[index]

    # Nothing changed: every page answers 304 to the conditional GET; nothing is appended.
    head = store.head_position()
    site, fed = counts_of(store, http, feed)
    assert (site.not_modified, fed.not_modified, site.events_appended, fed.events_appended) == (
        2,
        2,
        0,
        0,
    )
    assert {e.type for e in store.read_all(head)} <= set(runs.RUN_EVENTS)
    assert server.requests_to("/raqqa")[-1].status == 304

    # The toll is edited, one page is withdrawn (410), a feed item's server fails (500).
    server.set("/raqqa", page("Air strike on Raqqa", "At least 44"))
    server.set("/other", "gone", status=410)
    server.set("/f1", "oops", status=500)
    site, fed = counts_of(store, http, feed)
    assert (site.revised, site.withdrawn, site.claims_retracted, site.claims_asserted) == (
        1,
        1,
        1,
        1,
    )
    assert (fed.failed, fed.not_modified, fed.withdrawn) == (1, 1, 0)
    assert fed.errors and server.url("/f1") in fed.errors[0]
    types = [e.type for e in store.read_stream(stream_of(server.url("/raqqa")))]
    assert types[-3:] == [catalog.ARTICLE_REVISED, catalog.CLAIM_RETRACTED, catalog.CLAIM_ASSERTED]
    assert [e.type for e in store.read_stream(stream_of(server.url("/other")))][-1] == (
        catalog.ARTICLE_WITHDRAWN
    )
    # The failed attempt changed nothing about the article it was for.
    assert [e.type for e in store.read_stream(stream_of(server.url("/f1")))][-1] != (
        catalog.ARTICLE_WITHDRAWN
    )

    history = queries.topic_history(store.engine, TOPIC)
    assert history is not None
    assert [h["to"]["value"] for h in history] == [20, 44]
    assert "caused by ArticleRevised" in history[-1]["cause"]["detail"]


def test_an_unreachable_feed_fails_its_source_only(
    store: EventStore, server: ArticleServer
) -> None:
    server.set("/feed.xml", "down", status=404)
    feed = SourceConfig(
        id="feed",
        kind="feed",
        urls=(server.url("/feed.xml"),),
        interval_s=60,
        allow_hosts=(server.authority,),
    )
    report = run_sources(store, default_runner(store), [feed], job_id="t", trigger="cli", actor="t")
    assert report.status == "failed"
    assert "HTTP 404" in (report.sources[0].error or "")
    # A source refused by the SSRF guard (loopback not allowed) is a failed attempt per URL.
    refused = SourceConfig(id="site", kind="http", urls=(server.url("/x"),), interval_s=60)
    [counts] = counts_of(store, refused)
    assert counts.failed == 1 and counts.new == 0
