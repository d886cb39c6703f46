"""Hostile requests against every route: SQL-ish, path-traversal, control and odd unicode
strings in ids and filters, extreme pagination and time values, wrong body types. Always a
4xx problem+json (or a normal answer), never a 5xx, a stack trace or SQL. And auth: every write
needs a valid token, the actor is recorded on every write, tokens never reach the log or a
response. (Bodies that are too big, not JSON, not UTF-8 or nested too deep:
tests/integration/api/test_api.py::test_bad_bodies_are_problems.)"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import OTHER_TOKEN, TOKEN
from tests.reliability.conftest import AUTH

HOSTILE = [
    "' OR 1=1 --",
    "'; DROP TABLE events; --",
    '" OR ""="',
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "%2e%2e%2f%2e%2e%2f",
    "%00",
    "a\x00b",
    "line\r\nX-Injected: 1",
    "\u202e\u200b\ufeff",
    "😀" * 50,
    "x" * 5000,
    "*",
    "%",
    "_",
    "null",
    "[]",
    "{}",
    "1e309",
    "-0",
    "\\",
]
NUMBERS = [
    *("0", "-1", "-9223372036854775809", "9223372036854775808", "1e9", "1.5", "NaN", "", " "),
    # More digits than Python converts (4,300), leading zeros, and what str.isdigit() also takes
    *("9" * 5000, "0" * 5000 + "1", "\u00b2"),
]
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "SELECT ", 'File "')


def assert_clean(response: Any, where: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{where}: {response.status_code} {body[:300]}"
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json", where
        assert response.get_json()["status"] == response.status_code
    assert not any(leak in body for leak in LEAKS), f"{where}: {body[:300]}"


@pytest.fixture
def seeded(client: FlaskClient) -> FlaskClient:
    body = {"source_id": "wire-1", "text": "At least 20 people were killed in Mosul, the UN said."}
    assert client.post("/v1/articles", json=body, headers=AUTH).status_code == 201
    return client


def test_hostile_ids_and_filters_never_5xx(seeded: FlaskClient) -> None:
    for value in HOSTILE:
        segment = quote(value, safe="")
        for path in (
            f"/v1/topics/{segment}",
            f"/v1/topics/{segment}/history",
            f"/v1/topics/{segment}/claims",
            f"/v1/claims/{segment}",
            f"/v1/articles/{segment}",
            f"/v1/articles/{segment}/events",
        ):
            assert_clean(seeded.get(path), path)
        query = quote(value)
        for path in (
            f"/v1/topics?measure={query}&place={query}&subject={query}&search={query}",
            f"/v1/topics?sort={query}",
            f"/v1/topics?known_at={query}",
            f"/v1/topics?valid_at={query}",
            f"/v1/articles?outlet={query}&published_from={query}",
            f"/v1/events?type={query}",
            f"/v1/topics/total.killed.people.mosul?known_at={query}",
        ):
            assert_clean(seeded.get(path), path)
        assert_clean(
            seeded.post(
                f"/v1/claims/{segment}/rank",
                json={"rank": "preferred", "reason": value},
                headers=AUTH,
            ),
            "rank",
        )


def test_nul_in_an_id_or_filter_is_a_4xx_on_every_backend(seeded: FlaskClient) -> None:
    """Found on PostgreSQL (which refuses NUL in text): /v1/topics/a%00b was a 500."""
    assert seeded.get("/v1/topics/a%00b").status_code == 404
    assert seeded.get("/v1/claims/%00").status_code == 404
    refused = seeded.get("/v1/topics?measure=a%00b")
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "measure"


def test_extreme_pagination_and_times_never_5xx(seeded: FlaskClient) -> None:
    for number in NUMBERS:
        value = quote(number)
        for path in (
            f"/v1/topics?limit={value}",
            f"/v1/topics?offset={value}",
            f"/v1/events?after={value}&limit={value}",
            f"/v1/events/stream?after={value}&limit=1",
            f"/v1/articles?limit={value}",
            f"/v1/articles/wire-1/events?from_version={value}&to_version={value}",
            f"/v1/topics?known_at={value}",
            f"/v1/topics/total.killed.people.mosul/history?known_at={value}",
            f"/v1/topics/total.killed.people.mosul?known_at={value}",
            f"/v1/topics?min_position={value}",
        ):
            assert_clean(seeded.get(path), path)
    for number in ("9" * 5000, "\u00b2", "-1", "1.5", "NaN"):  # headers are Latin-1 on the wire
        response = seeded.get("/v1/topics", headers={"Factstore-Min-Position": number})
        assert_clean(response, f"Factstore-Min-Position: {number[:20]}")
        assert response.status_code == 422
    for moment in ("0001-01-01", "9999-12-31T23:59:59Z", "2017-02-30", "2017-05-10T25:00"):
        assert_clean(seeded.get(f"/v1/topics?known_at={quote(moment)}"), moment)
        assert_clean(seeded.get(f"/v1/topics?valid_at={quote(moment)}"), moment)


@pytest.mark.parametrize(
    "body",
    [
        {"text": 123},
        {"text": None},
        {"text": ["a"] * 1000},
        {"text": {"nested": {"deeper": "x"}}},
        {"text": ""},
        {"text": " \n\t "},
        {"text": "x", "source_id": "x" * 5000},
        {"text": "x", "source_id": "../../etc/passwd"},
        {"text": "x", "source_id": "' OR 1=1 --"},
        {"text": "x", "source_id": 10**400},
        {"text": "x", "published_at": "9999-99-99"},
        {"text": "x", "published_at": 10**20},
        {"text": "x", "url": "javascript:alert(1)"},
        {"text": "x", "outlet": "\u202e" * 300},
        {"text": "9" * 100_000 + " people were killed."},
        [],
        "just a string",
        None,
    ],
)
def test_hostile_article_bodies_never_5xx(client: FlaskClient, body: Any) -> None:
    response = client.post("/v1/articles", json=body, headers=AUTH)
    assert_clean(response, repr(body)[:80])


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"text": "12 people were killed \\ud800 in Mosul."}', "field 'text'"),
        ('{"text": "x", "title": "\\udfff"}', "field 'title'"),
        ('{"text": "x", "\\ud83d": 1}', "a field name"),
        ('"\\udc00"', "the JSON value"),
    ],
)
def test_a_lone_surrogate_is_a_400_and_nothing_is_stored(
    client: FlaskClient, body: str, where: str
) -> None:
    """Valid UTF-8 and valid JSON can still escape half of a surrogate pair: not text, and no
    UTF-8 (so no event hash) can encode it."""
    store = client.application.extensions["factstore"].store
    head = store.head_position()
    response = client.post("/v1/articles", data=body, content_type="application/json", headers=AUTH)
    assert_clean(response, body)
    assert response.status_code == 400
    assert f"{where} holds a lone surrogate" in response.get_json()["detail"]
    assert store.head_position() == head


def test_a_surrogate_pair_escape_is_text(client: FlaskClient) -> None:
    body = '{"text": "12 people were killed in Mosul \\ud83d\\ude00, police said."}'
    response = client.post("/v1/articles", data=body, content_type="application/json", headers=AUTH)
    assert response.status_code == 201
    stream = response.get_json()["stream_id"]
    events = client.get(f"/v1/articles/{stream}/events").get_json()["items"]
    assert "\U0001f600" in events[0]["data"]["text"]


def test_every_write_needs_a_valid_token(seeded: FlaskClient) -> None:
    writes = [
        ("/v1/articles", {"text": "At least 5 people were killed in Homs."}),
        ("/v1/claims/anything/rank", {"rank": "preferred", "reason": "x"}),
        ("/v1/claims/anything/retract", {"reason": "x"}),
    ]
    revoked = "fs_a-token-that-was-removed-from-the-configuration"
    for path, body in writes:
        for headers in (
            {},
            {"Authorization": ""},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer "},
            {"Authorization": f"Bearer {revoked}"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Bearer {TOKEN[:-1]}"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": f"Bearer {TOKEN} {TOKEN}"},
            {"Authorization": "Bearer \u00e9\u00e9"},
        ):
            response = seeded.post(path, json=body, headers=headers)
            assert response.status_code == 401, (path, headers, response.get_data(as_text=True))
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert_clean(response, path)


def test_the_actor_is_recorded_on_every_write_and_tokens_never_logged(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    body = {"source_id": "wire-2", "text": "At least 20 people were killed in Mosul, the UN said."}
    posted = client.post("/v1/articles", json=body, headers=AUTH)
    assert posted.status_code == 201
    claim_id = posted.get_json()["claims"][0]["claim_id"]
    assert (
        client.post(
            f"/v1/claims/{claim_id}/rank", json={"rank": "preferred", "reason": "x"}, headers=bot
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/v1/claims/{claim_id}/retract", json={"reason": "x"}, headers=AUTH
        ).status_code
        == 201
    )
    client.post("/v1/articles", json=body, headers={"Authorization": f"Bearer {TOKEN}x"})

    store = app.extensions["factstore"].store
    actors = [(e.type, e.metadata.get("actor")) for e in store.read_all(0, 100)]
    assert actors[0] == ("ArticleIngested", "desk")
    assert ("ClaimRanked", "bot") in actors and ("ClaimRetracted", "desk") in actors
    assert all(actor in ("desk", "bot") for _, actor in actors)
    assert TOKEN not in caplog.text and OTHER_TOKEN not in caplog.text
    for event in store.read_all(0, 100):
        assert TOKEN not in str(event.metadata) and OTHER_TOKEN not in str(event.metadata)
