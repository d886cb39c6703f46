"""The audit pages through the Flask client, on both backends: status, key content, escaping,
time travel and HTML 404s (the JSON API keeps problem+json)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from api.pages import topic as topic_page
from tests.integration.api.conftest import AUTH

MOSUL = "total.displaced.people.mosul"
HOSTILE = (
    "Officials said <script>alert(1)</script> at least 20 civilians were killed in an air "
    "strike on Raqqa on Thursday, the Syrian Observatory said."
)


def html(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def valid_time_chart(page: str) -> str:
    match = re.search(r'<svg[^>]*aria-labelledby="valid-time-title.*?</svg>', page, re.S)
    assert match, "the valid-time chart is missing"
    return match.group(0)


def test_topics_page_lists_filters_and_sorts(seeded_client: FlaskClient) -> None:
    page = html(seeded_client, "/")
    assert "<h1>Topics</h1>" in page and f'href="/topics/{MOSUL}"' in page
    assert '<option value="displaced">displaced</option>' in page
    filtered = html(seeded_client, "/?measure=displaced&place=mosul&q=people")
    assert f'href="/topics/{MOSUL}"' in filtered and "mosul-west" not in filtered
    assert "at least 750,000" in filtered
    by_value = html(seeded_client, "/?sort=-value")
    figures = re.findall(r'data-label="Best figure">([^<]*)<', by_value)
    assert figures[0] == "at least 750,000"  # the largest first
    assert 'aria-sort="descending"' in by_value
    assert "No topic matches." in html(seeded_client, "/?q=no-such-thing&sort=bogus")
    stylesheet = seeded_client.get("/static/pages.css")
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"


def test_topic_page_shows_figure_provenance_chart_and_history(
    seeded_client: FlaskClient,
) -> None:
    page = html(seeded_client, f"/topics/{MOSUL}")
    assert '<p class="best-figure" data-testid="best-figure">at least 750,000</p>' in page
    assert "<mark>at least 750,000 people have fled</mark>" in page
    assert "UN" in page and 'href="/articles/article-004_348ec045e6fa3069"' in page
    chart = valid_time_chart(page)
    assert chart.count("<circle") == 2 and "<title" in chart and "<desc" in chart
    assert 'class="best"' in chart
    assert page.count("<tr class=") == 2  # one history row per change
    assert "<summary>The chart's data as a table</summary>" in page

    history = seeded_client.get(f"/v1/topics/{MOSUL}/history").get_json()["items"]
    before_004 = history[1]["position"] - 1
    past = html(seeded_client, f"/topics/{MOSUL}?known_at={before_004}")
    assert '<p class="best-figure" data-testid="best-figure">more than 91,000</p>' in past
    assert f"log position {before_004}" in past
    assert valid_time_chart(past).count("<circle") == 1
    assert '<tr class="later">' in past  # the change not yet known then is marked


def test_topic_page_greys_a_deprecated_claim_and_caps_points(
    seeded_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    figure = seeded_client.get(f"/v1/topics/{MOSUL}").get_json()["figure"]
    claim = figure["provenance"]["claim_id"]
    ranked = seeded_client.post(
        f"/v1/claims/{claim}/rank", json={"rank": "deprecated", "reason": "x"}, headers=AUTH
    )
    assert ranked.status_code == 201
    page = html(seeded_client, f"/topics/{MOSUL}")
    assert ">more than 91,000</p>" in page
    assert valid_time_chart(page).count('class="point greyed"') == 1
    assert "ClaimRanked" in page  # the history row's cause

    monkeypatch.setattr(topic_page, "MAX_POINTS_DRAWN", 1)
    capped = html(seeded_client, f"/topics/{MOSUL}")
    assert valid_time_chart(capped).count("<circle") == 1
    assert "showing the latest 1 of 2 claims" in capped


def test_topic_page_before_any_claim_and_with_a_bad_known_at(seeded_client: FlaskClient) -> None:
    page = html(seeded_client, f"/topics/{MOSUL}?known_at=1")
    assert ">no figure</p>" in page and "knew no claim" in page
    assert "No claims to draw" in page
    bad = html(seeded_client, f"/topics/{MOSUL}?known_at=yesterday", status=422)
    assert "known_at must be" in bad


def test_article_page_highlights_claims_verifies_and_diffs(seeded_client: FlaskClient) -> None:
    page = html(seeded_client, "/articles/004_348ec045e6fa3069")
    assert "Iraqi Troops Fight in Strategic Areas of West Mosul</h1>" in page
    assert page.count('<a class="claim claim-active"') == 4
    assert f'href="/topics/{MOSUL}"' in page
    assert ">verified</span>" in page and page.count('<code class="hash"') == 10

    original = (
        "At least 20 civilians were killed in an air strike on Raqqa, the Syrian Observatory said."
    )
    revised = original.replace("At least 20", "At least 25")
    for text in (original, revised):
        response = seeded_client.post(
            "/v1/articles", json={"text": text, "source_id": "wire-rev"}, headers=AUTH
        )
        assert response.status_code == 201
    page = html(seeded_client, "/articles/wire-rev")
    assert "<del>20</del><ins>25</ins>" in page
    assert "Claims not in the current text" in page  # the retracted 20


def test_event_log_page_is_newest_first_and_paginated(seeded_client: FlaskClient) -> None:
    page = html(seeded_client, "/events")
    positions = [int(p) for p in re.findall(r'<tr id="e(\d+)">', page)]
    assert positions == list(range(33, 0, -1))
    older = html(seeded_client, "/events?before=10")
    assert [int(p) for p in re.findall(r'<tr id="e(\d+)">', older)] == list(range(9, 0, -1))
    assert "older →" not in older and "← newer" in older
    # ?before= and ?page= that are no numbers, or more digits than int() converts: the first
    # page, never a 500 ("²" passes str.isdigit() and fails int()).
    for nonsense in ("\u00b2", "9" * 5000, "-3", "x"):
        assert re.findall(r'<tr id="e(\d+)">', html(seeded_client, f"/events?before={nonsense}"))
        assert "<h1>Topics</h1>" in html(seeded_client, f"/?page={nonsense}")
    assert "No topic matches." in html(seeded_client, "/?page=" + "9" * 30)


def test_hostile_text_is_shown_never_run(client: FlaskClient) -> None:
    body = {
        "text": HOSTILE,
        "source_id": "hostile",
        "title": "<script>alert(2)</script>",
        "outlet": '<img src=x onerror="alert(3)">',
        "url": "javascript:alert(4)",
        "published_at": "2017-06-29",
    }
    assert client.post("/v1/articles", json=body, headers=AUTH).status_code == 201
    topic = "incident.killed.civilians.raqqa.2017-06-29"
    pages = [
        html(client, "/"),
        html(client, f"/topics/{topic}"),
        html(client, "/articles/hostile"),
        html(client, "/events"),
        html(client, "/topics/<img src=x onerror=alert(5)>", status=404),
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "javascript:alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;</h1>" in pages[2]


def test_unknown_ids_are_html_404s_and_the_api_keeps_problem_json(client: FlaskClient) -> None:
    assert "There is no topic" in html(client, "/topics/no.such.topic", status=404)
    assert "There is no article" in html(client, "/articles/no-such-article", status=404)
    response = client.get("/v1/topics/no.such.topic")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert html(client, "/events").count('<tr id="e') == 0
    assert "No topic matches." in html(client, "/")
