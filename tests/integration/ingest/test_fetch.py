"""Fetching articles and feeds from a real HTTP server on loopback that changes between runs.

Pure fetch tests: no store. The server is allowed by host:port (`allow_hosts`), so every other
private address stays refused, as in production.
"""

from __future__ import annotations

import gzip
import ipaddress
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import trustme

from factstore.ingest.fetch import (
    FeedFetched,
    Fetched,
    FetchFailed,
    FetchPolicy,
    Gone,
    NotModified,
    fetch_article,
    fetch_feed,
    forbidden_reason,
)
from factstore.ingest.sources import article_id_for
from tests.support.http_server import ArticleServer, serve_articles

STRIKE = (
    "At least 20 civilians were killed in an air strike on Raqqa on Thursday, the Syrian "
    "Observatory for Human Rights said, adding that the toll could rise."
)
MILITANTS = (
    "More than 1,300 militants have been killed since February in the campaign to retake "
    "the city, said Lt Gen Yarallah."
)
DISPLACED = (
    "About 200,000 people have fled the fighting so far, the United Nations refugee agency "
    "said in a statement released in Geneva on Thursday evening."
)


def page(
    title: str, paragraphs: list[str], *, published: str | None = None, meta_charset: str = ""
) -> str:
    """A news page: the article wrapped in the boilerplate a real site puts around it."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    date = f'<meta property="article:published_time" content="{published}">' if published else ""
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f"""<!DOCTYPE html><html><head>{meta}<title>{title} | Example News</title>
<meta property="og:title" content="{title}">{date}</head><body>
<nav class="menu"><a href="/">Home</a> <a href="/world">World news</a>
<a href="/sport">Sport</a> <a href="/weather">Weather</a></nav>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience on our
site. <button>Accept all cookies</button></div>
<main><article><h1>{title}</h1>
{body}
</article></main>
<aside class="related-links"><h3>Related stories</h3><ul>
<li><a href="/cats">Ten things you never knew about cats</a></li>
<li><a href="/stocks">Stocks fall 3% as markets wobble</a></li></ul></aside>
<footer class="site-footer"><p>Copyright 2017 Example News Ltd. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/contact">Contact us</a></footer>
</body></html>"""


BOILERPLATE = ("cookies", "Copyright", "cats", "Stocks fall", "Privacy", "World news", "Related")


@pytest.fixture
def server() -> Iterator[ArticleServer]:
    with serve_articles() as running:
        yield running


def allowing(server: ArticleServer, **overrides: float | int) -> FetchPolicy:
    """Small timeouts; only the test server's host:port is allowed among private addresses."""
    settings: dict[str, float | int] = {"timeout_s": 2.0, "retries": 2, "backoff_s": 0.05}
    settings.update(overrides)
    return FetchPolicy(allow_hosts=frozenset({server.authority}), **settings)  # type: ignore[arg-type]


def fetched(outcome: object) -> Fetched:
    assert isinstance(outcome, Fetched), outcome
    return outcome


def failed(outcome: object) -> FetchFailed:
    assert isinstance(outcome, FetchFailed), outcome
    return outcome


# --- articles -----------------------------------------------------------------------------


def test_article_body_is_extracted_without_boilerplate(server: ArticleServer) -> None:
    html = page(
        "Air strike on Raqqa", [STRIKE, MILITANTS, DISPLACED], published="2017-06-29T10:00:00Z"
    )
    server.set("/raqqa", html)
    url = server.url("/raqqa")

    article = fetched(fetch_article(url, policy=allowing(server))).article

    for sentence in (STRIKE, MILITANTS, DISPLACED):
        assert sentence in article.text
    for noise in BOILERPLATE:
        assert noise not in article.text
    assert article.title == "Air strike on Raqqa"
    assert article.published_at == "2017-06-29"
    assert article.outlet == "127.0.0.1"
    assert article.url == url
    assert article.article_id == article_id_for(None, url, url)


def test_given_outlet_wins_over_the_host(server: ArticleServer) -> None:
    server.set("/a", page("Raqqa", [STRIKE, MILITANTS]))
    outcome = fetched(fetch_article(server.url("/a"), policy=allowing(server), outlet="Wire"))
    assert outcome.article.outlet == "Wire"


def test_conditional_get_gives_not_modified_until_the_article_is_edited(
    server: ArticleServer,
) -> None:
    server.set("/raqqa", page("Air strike on Raqqa", [STRIKE, MILITANTS, DISPLACED]))
    url, policy = server.url("/raqqa"), allowing(server)
    first = fetched(fetch_article(url, policy=policy))
    assert first.etag and first.last_modified

    assert fetch_article(url, policy=policy, etag=first.etag) == NotModified(url)
    assert fetch_article(url, policy=policy, last_modified=first.last_modified) == NotModified(url)
    seen = server.requests_to("/raqqa")
    assert seen[1].headers["if-none-match"] == first.etag
    assert seen[2].headers["if-modified-since"] == first.last_modified
    assert [request.status for request in seen] == [200, 304, 304]

    # The site edits the figure and removes a sentence.
    edited_strike = STRIKE.replace("At least 20", "At least 31")
    server.set("/raqqa", page("Air strike on Raqqa", [edited_strike, DISPLACED]))
    second = fetched(fetch_article(url, policy=policy, etag=first.etag))

    assert "At least 31 civilians" in second.article.text
    assert "At least 20" not in second.article.text
    assert MILITANTS not in second.article.text
    assert second.etag != first.etag
    assert second.article.article_id == first.article.article_id


def test_articles_fetch_from_worker_threads(server: ArticleServer) -> None:
    """The scheduler runs fetches in a thread pool: extraction must not rely on the main thread."""
    for number in range(6):
        server.set(f"/n{number}", page(f"Story {number}", [STRIKE.replace("20", str(number))]))
    urls = [server.url(f"/n{number}") for number in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(lambda url: fetch_article(url, policy=allowing(server)), urls))
    for number, outcome in enumerate(outcomes):
        assert f"At least {number} civilians" in fetched(outcome).article.text


@pytest.mark.parametrize("status", [404, 410])
def test_withdrawn_article_is_gone(server: ArticleServer, status: int) -> None:
    server.set("/raqqa", page("Raqqa", [STRIKE, MILITANTS]))
    url, policy = server.url("/raqqa"), allowing(server)
    fetched(fetch_article(url, policy=policy))

    server.set("/raqqa", "withdrawn", status=status)
    assert fetch_article(url, policy=policy) == Gone(url, status)
    assert len(server.requests_to("/raqqa")) == 2  # a 4xx is never retried


def test_server_error_fails_after_the_configured_retries(server: ArticleServer) -> None:
    server.set("/raqqa", "oops", status=500)
    outcome = failed(fetch_article(server.url("/raqqa"), policy=allowing(server, retries=2)))
    assert "HTTP 500" in outcome.reason
    assert len(server.requests_to("/raqqa")) == 3


def test_slow_response_times_out_after_the_configured_retries(server: ArticleServer) -> None:
    server.set("/slow", page("Raqqa", [STRIKE]), delay_s=0.8)
    policy = allowing(server, timeout_s=0.3, retries=1)
    started = time.monotonic()
    outcome = failed(fetch_article(server.url("/slow"), policy=policy))
    assert "timed out" in outcome.reason
    assert len(server.requests_to("/slow")) == 2
    assert time.monotonic() - started < 0.8 * 2  # it gave up, it did not wait for the server


def test_a_body_dripping_past_the_timeout_is_cut(server: ArticleServer) -> None:
    server.set("/drip", page("Raqqa", [STRIKE, MILITANTS]), drip_s=0.1)  # ~2 s in all
    started = time.monotonic()
    outcome = failed(
        fetch_article(server.url("/drip"), policy=allowing(server, timeout_s=0.4, retries=0))
    )
    assert "timed out" in outcome.reason
    assert time.monotonic() - started < 1.0
    assert len(server.requests_to("/drip")) == 1


def test_client_errors_are_not_retried(server: ArticleServer) -> None:
    server.set("/private", "forbidden", status=403)
    outcome = failed(fetch_article(server.url("/private"), policy=allowing(server)))
    assert "HTTP 403" in outcome.reason
    assert len(server.requests_to("/private")) == 1


def test_retry_after_beyond_the_deadline_gives_up_at_once(server: ArticleServer) -> None:
    server.set("/busy", "slow down", status=429, headers={"Retry-After": "3600"})
    outcome = failed(fetch_article(server.url("/busy"), policy=allowing(server, deadline_s=5)))
    assert "HTTP 429" in outcome.reason and "no time left" in outcome.reason
    assert len(server.requests_to("/busy")) == 1


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, "soon"])
def test_a_nonsense_retry_after_is_ignored(server: ArticleServer, value: str) -> None:
    """A hostile server's header: "²" passes str.isdigit() and fails int(); 5,000 digits
    are more than int() converts."""
    server.set("/busy", "slow down", status=429, headers={"Retry-After": value})
    outcome = failed(fetch_article(server.url("/busy"), policy=allowing(server, retries=0)))
    assert "HTTP 429" in outcome.reason
    assert len(server.requests_to("/busy")) == 1


def test_body_over_the_declared_limit_is_refused_unread(server: ArticleServer) -> None:
    server.set("/big", page("Raqqa", [STRIKE] * 200))
    outcome = failed(fetch_article(server.url("/big"), policy=allowing(server, max_bytes=2_000)))
    assert "too large" in outcome.reason
    assert len(server.requests_to("/big")) == 1


def test_streamed_body_is_cut_at_the_limit(server: ArticleServer) -> None:
    total = 50_000_000
    server.set("/endless", b"<p>" + b"filler " * 100 + b"</p>", stream_bytes=total)
    outcome = failed(
        fetch_article(server.url("/endless"), policy=allowing(server, max_bytes=100_000))
    )
    assert "too large" in outcome.reason
    (request,) = server.requests_to("/endless")
    assert request.done.wait(5)
    assert request.bytes_sent < total // 5  # only what the socket buffers took


def test_compressed_bodies_are_capped_after_decompression(server: ArticleServer) -> None:
    gzipped = {"Content-Encoding": "gzip"}
    server.set("/gz", gzip.compress(page("Raqqa", [STRIKE, MILITANTS]).encode()), headers=gzipped)
    server.set("/bomb", gzip.compress(b"<p>" + b"0" * 10_000_000), headers=gzipped)  # ~10 KB
    policy = allowing(server, max_bytes=1_000_000)

    assert STRIKE in fetched(fetch_article(server.url("/gz"), policy=policy)).article.text
    assert "too large" in failed(fetch_article(server.url("/bomb"), policy=policy)).reason


# --- charsets -----------------------------------------------------------------------------

EURO_TEXT = (
    "Der Stadtrat von Zürich bewilligte am Montag „Kredite“ über 12 Millionen € für die "
    "Sanierung der Schulhäuser; die Gegner hatten lediglich 3 Millionen € gefordert, sagte "
    "der Präsident der Finanzkommission, Jürg Müller, gegenüber der Zeitung."
)
LATIN_TEXT = (
    "À Genève, le conseil d'État a débloqué 45 millions de francs pour la rénovation des "
    "écoles primaires, a déclaré jeudi la conseillère d'État chargée des finances, "
    "Hélène Favre, lors d'une conférence de presse très suivie à l'hôtel de ville."
)


@pytest.mark.parametrize(
    ("text", "encoding", "content_type", "meta"),
    [
        (EURO_TEXT, "cp1252", "text/html; charset=windows-1252", ""),
        (EURO_TEXT, "cp1252", "text/html; charset=ISO-8859-1", ""),  # read as windows-1252
        (LATIN_TEXT, "latin-1", "text/html", ""),  # undeclared: detected
        (EURO_TEXT, "cp1252", "text/html", "windows-1252"),  # declared in the page only
        (LATIN_TEXT, "utf-8", "text/html", ""),  # undeclared UTF-8
    ],
)
def test_non_utf8_pages_decode(
    server: ArticleServer, text: str, encoding: str, content_type: str, meta: str
) -> None:
    html = page("Schulen", [text, text.replace("Montag", "Dienstag")], meta_charset=meta)
    server.set("/page", html.encode(encoding), content_type=content_type)
    article = fetched(fetch_article(server.url("/page"), policy=allowing(server))).article
    assert text in article.text
    assert "\ufffd" not in article.text


def test_undecodable_bytes_do_not_crash(server: ArticleServer) -> None:
    body = page("Raqqa", [STRIKE, MILITANTS]).encode() + b"\xff\xfe\x00\x81 stray bytes"
    server.set("/junk", body, content_type="text/html; charset=utf-8")
    article = fetched(fetch_article(server.url("/junk"), policy=allowing(server))).article
    assert STRIKE in article.text


# --- feeds --------------------------------------------------------------------------------


def rss(items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
        for title, link, date in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Example News</title><link>http://example.test/</link>{entries}</channel></rss>"
    )


def test_rss_feed_lists_its_items_and_their_articles_fetch(server: ArticleServer) -> None:
    server.set("/raqqa", page("Air strike on Raqqa", [STRIKE, MILITANTS]))
    feed = rss(
        [
            ("Air strike on Raqqa", server.url("/raqqa"), "Thu, 29 Jun 2017 10:00:00 GMT"),
            ("Mosul", "/mosul", "Fri, 30 Jun 2017 08:30:00 +0200"),  # relative link
        ]
    )
    server.set("/feed.xml", feed, content_type="application/rss+xml")
    url, policy = server.url("/feed.xml"), allowing(server)

    outcome = fetch_feed(url, policy=policy)
    assert isinstance(outcome, FeedFetched), outcome
    assert [(item.url, item.title, item.published_at) for item in outcome.items] == [
        (server.url("/raqqa"), "Air strike on Raqqa", "2017-06-29T10:00:00+00:00"),
        (server.url("/mosul"), "Mosul", "2017-06-30T06:30:00+00:00"),
    ]
    assert fetch_feed(url, policy=policy, etag=outcome.etag) == NotModified(url)
    article = fetched(fetch_article(outcome.items[0].url, policy=policy)).article
    assert STRIKE in article.text

    # A new article appears at the top of the feed.
    server.set("/feed.xml", rss([("Aleppo", "/aleppo", "Sat, 01 Jul 2017 09:00:00 GMT")]) + "")
    again = fetch_feed(url, policy=policy, etag=outcome.etag)
    assert isinstance(again, FeedFetched), again
    assert [item.url for item in again.items] == [server.url("/aleppo")]


def test_atom_feed_lists_its_entries(server: ArticleServer) -> None:
    atom = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example</title><id>urn:example</id>
<updated>2017-06-30T12:00:00Z</updated>
<entry><title>Mosul displacement</title><id>urn:1</id>
<link rel="alternate" href="{server.url("/mosul")}"/><updated>2017-06-30T12:00:00Z</updated></entry>
<entry><title>Raqqa</title><id>urn:2</id><link href="{server.url("/raqqa")}"/>
<published>2017-06-29T10:00:00Z</published><updated>2017-06-29T11:00:00Z</updated></entry>
</feed>"""
    server.set("/atom", atom, content_type="application/atom+xml")
    outcome = fetch_feed(server.url("/atom"), policy=allowing(server))
    assert isinstance(outcome, FeedFetched), outcome
    assert [(item.url, item.title, item.published_at) for item in outcome.items] == [
        (server.url("/mosul"), "Mosul displacement", "2017-06-30T12:00:00+00:00"),
        (server.url("/raqqa"), "Raqqa", "2017-06-29T10:00:00+00:00"),
    ]


def test_a_page_that_is_not_a_feed_fails(server: ArticleServer) -> None:
    server.set("/feed", "just some text, no feed here", content_type="text/plain")
    assert "not a feed" in failed(fetch_feed(server.url("/feed"), policy=allowing(server))).reason


def test_a_withdrawn_feed_is_gone(server: ArticleServer) -> None:
    assert fetch_feed(server.url("/nofeed"), policy=allowing(server)) == Gone(
        server.url("/nofeed"), 404
    )


# --- SSRF ---------------------------------------------------------------------------------


def test_default_policy_refuses_private_addresses_and_other_schemes(server: ArticleServer) -> None:
    server.set("/a", page("Raqqa", [STRIKE, MILITANTS]))
    port = server.port
    refused = {
        f"http://127.0.0.1:{port}/a": "loopback",
        f"http://localhost:{port}/a": "loopback",
        f"http://[::1]:{port}/a": "loopback",
        f"http://2130706433:{port}/a": "loopback",  # 127.0.0.1 written as one number
        "http://10.1.2.3/a": "private",
        "http://169.254.169.254/latest/meta-data/": "link-local",
        "http://0.0.0.0/": "unspecified",
        "file:///etc/passwd": "scheme 'file'",
        "gopher://127.0.0.1:70/_stats": "scheme 'gopher'",
        f"http://news.example@127.0.0.1:{port}/a": "credentials",
    }
    policy = FetchPolicy(timeout_s=1.0, retries=0)
    for url, why in refused.items():
        outcome = failed(fetch_article(url, policy=policy))
        assert why in outcome.reason, (url, outcome.reason)
    assert "loopback" in failed(fetch_feed(server.url("/a"), policy=policy)).reason
    assert server.requests == []


def test_allowed_host_does_not_open_other_private_addresses(server: ArticleServer) -> None:
    policy = allowing(server)
    for url in (f"http://localhost:{server.port}/a", "http://127.0.0.1:9/a", "http://10.0.0.1/"):
        assert "refused" in failed(fetch_article(url, policy=policy)).reason
    assert server.requests == []


def test_redirects_are_followed_and_every_hop_is_checked(server: ArticleServer) -> None:
    server.set("/a", page("Raqqa", [STRIKE, MILITANTS]))
    server.set("/moved", "", status=301, headers={"Location": "/a"})
    server.set(
        "/to-localhost", "", status=302, headers={"Location": f"http://localhost:{server.port}/a"}
    )
    server.set("/to-metadata", "", status=307, headers={"Location": "http://169.254.169.254/"})
    server.set("/loop", "", status=302, headers={"Location": "/loop"})
    policy = allowing(server)

    moved = fetched(fetch_article(server.url("/moved"), policy=policy))
    assert moved.article.source == server.url("/a")
    assert moved.article.article_id == article_id_for(None, server.url("/moved"), "")

    assert "loopback" in failed(fetch_article(server.url("/to-localhost"), policy=policy)).reason
    assert "link-local" in failed(fetch_article(server.url("/to-metadata"), policy=policy)).reason
    assert len(server.requests_to("/a")) == 1  # only through the allowed redirect
    assert "redirects" in failed(fetch_article(server.url("/loop"), policy=policy)).reason


def test_allow_private_opens_loopback(server: ArticleServer) -> None:
    server.set("/a", page("Raqqa", [STRIKE, MILITANTS]))
    outcome = fetch_article(
        f"http://localhost:{server.port}/a", policy=FetchPolicy(allow_private=True)
    )
    assert STRIKE in fetched(outcome).article.text


def test_https_checks_the_certificate_for_the_name_not_the_address(tmp_path: Path) -> None:
    """The connection goes to the checked address; TLS still verifies the host name."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with serve_articles(tls=context) as tls_server:
        tls_server.set("/a", page("Raqqa", [STRIKE, MILITANTS]))
        url = tls_server.url("/a", host="localhost")
        trusted = FetchPolicy(
            allow_hosts=frozenset({f"localhost:{tls_server.port}"}),
            ca_certs=str(ca_file),
            timeout_s=2.0,
            retries=0,
        )

        assert STRIKE in fetched(fetch_article(url, policy=trusted)).article.text
        assert tls_server.requests[0].headers["host"] == f"localhost:{tls_server.port}"

        untrusted = replace(trusted, ca_certs=None)
        assert "TLS" in failed(fetch_article(url, policy=untrusted)).reason
        by_address = replace(trusted, allow_hosts=frozenset({tls_server.authority}))
        wrong_name = failed(fetch_article(tls_server.url("/a"), policy=by_address))
        assert "TLS" in wrong_name.reason  # the certificate names localhost, not 127.0.0.1
        assert len(tls_server.requests) == 1


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),
        ("100.64.0.1", "non-global"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_forbidden_addresses(address: str, why: str | None) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == why
