"""The topic read path: figures and histories are encoded without marshmallow and kept per
ETag, so these tests hold them to what their schemas promise and to what is stored now."""

from __future__ import annotations

from typing import Any

from flask import json
from flask.testing import FlaskClient

from api import schemas
from api.http import BodyCache
from tests.integration.api.conftest import AUTH

# Two more reports of the seeds' Mosul displacement, the same day, that disagree: the figure
# then has a competing claim.
DISAGREEING = (
    "MOSUL, Iraq (Reuters) - About 600,000 people have been displaced from Mosul since the "
    "offensive began, an aid official said on Sunday.",
    "MOSUL, Iraq (AP) - About 450,000 people have been displaced from Mosul since the "
    "offensive began, the migration ministry said on Sunday.",
)


def schema_bytes(client: FlaskClient, schema: Any, served: bytes) -> bytes:
    """What the old path sent for this document: the schema's dump through the app's JSON."""
    return client.application.json.dumps(schema.dump(json.loads(served))).encode()


def every_topic(client: FlaskClient) -> list[str]:
    page = client.get("/v1/topics?limit=1000").get_json()
    assert 0 < len(page["items"]) == page["total"]
    return [item["topic"] for item in page["items"]]


def test_figures_and_histories_are_exactly_their_schemas_dump(
    seeded_client: FlaskClient,
) -> None:
    for number, text in enumerate(DISAGREEING):
        posted = seeded_client.post(
            "/v1/articles",
            json={"text": text, "source_id": f"report-{number}", "published_at": "2017-04-02"},
            headers=AUTH,
        )
        assert posted.status_code == 201
    topic_schema, history_schema = schemas.TopicSchema(), schemas.HistorySchema()
    topics = every_topic(seeded_client)
    competing = 0
    for topic in topics:
        for query in ("", "?known_at=20", "?valid_at=2017-01-01"):
            response = seeded_client.get(f"/v1/topics/{topic}{query}")
            if response.status_code == 404:  # no claims at that point in time
                continue
            assert response.status_code == 200 and response.mimetype == "application/json"
            body = response.get_data()
            assert body == schema_bytes(seeded_client, topic_schema, body), (topic, query)
            competing += len(response.get_json()["competing"])
        for query in ("", "?known_at=20"):
            response = seeded_client.get(f"/v1/topics/{topic}/history{query}")
            assert response.status_code == 200
            body = response.get_data()
            assert body == schema_bytes(seeded_client, history_schema, body), (topic, query)
    assert competing > 0  # the documents exercised include competing claims


def test_a_cached_figure_is_replaced_when_the_topic_changes(seeded_client: FlaskClient) -> None:
    page = seeded_client.get("/v1/topics?measure=displaced&place=mosul").get_json()
    [topic] = [t["topic"] for t in page["items"] if t["kind"] == "total"]
    first = seeded_client.get(f"/v1/topics/{topic}")
    again = seeded_client.get(f"/v1/topics/{topic}")
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    history = seeded_client.get(f"/v1/topics/{topic}/history").get_json()

    best = first.get_json()["figure"]["provenance"]["claim_id"]
    ranked = seeded_client.post(
        f"/v1/claims/{best}/rank",
        json={"rank": "deprecated", "reason": "double-counted"},
        headers=AUTH,
    )
    assert ranked.status_code == 201
    after = seeded_client.get(f"/v1/topics/{topic}")
    assert after.headers["ETag"] != first.headers["ETag"]
    assert after.get_json()["figure"]["provenance"]["claim_id"] != best
    # What a request with a query (never cached) computes for the same point: the log head.
    head = seeded_client.get("/v1/health").get_json()["head_position"]
    fresh = seeded_client.get(f"/v1/topics/{topic}?known_at={head}").get_json()
    assert {**after.get_json(), "known_at_position": head} == fresh
    new_history = seeded_client.get(f"/v1/topics/{topic}/history").get_json()
    assert len(new_history["items"]) == len(history["items"]) + 1


def test_body_cache_evicts_the_least_recently_used_within_its_bytes() -> None:
    cache = BodyCache(max_bytes=800)
    for key in "abcd":
        cache.put(key, key.encode() * 100)
    assert cache.get("a") == b"a" * 100  # a is now the most recently used
    cache.put("e", b"e" * 100)
    cache.put("f", b"f" * 100)
    cache.put("g", b"g" * 100)
    cache.put("h", b"h" * 100)
    cache.put("i", b"i" * 100)  # 900 bytes: the least recently used (b) goes
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 8
    cache.put("big", b"x" * 101)  # over an eighth of the budget: not kept
    assert cache.get("big") is None


def test_event_pages_and_articles_are_exactly_their_schemas_dump(
    seeded_client: FlaskClient,
) -> None:
    page_schema, article_schema = schemas.EventPageSchema(), schemas.ArticleDetailSchema()
    head = seeded_client.get("/v1/events?limit=1").get_json()["head_position"]
    assert head > 20
    for after, limit in ((0, 7), (5, 100), (head - 3, 50), (head, 10)):
        response = seeded_client.get(f"/v1/events?after={after}&limit={limit}")
        assert response.status_code == 200 and response.mimetype == "application/json"
        body = response.get_data()
        assert body == schema_bytes(seeded_client, page_schema, body), (after, limit)
    articles = seeded_client.get("/v1/articles?limit=100").get_json()["items"]
    claims = 0
    for article in articles:
        response = seeded_client.get(f"/v1/articles/{article['stream_id']}")
        assert response.status_code == 200
        body = response.get_data()
        assert body == schema_bytes(seeded_client, article_schema, body), article["stream_id"]
        claims += len(response.get_json()["claims"])
    assert len(articles) >= 5 and claims > 0


def test_topic_lists_are_exactly_their_schemas_dump(seeded_client: FlaskClient) -> None:
    page_schema = schemas.TopicPageSchema()
    queries = (
        "",
        "?limit=3&offset=2",
        "?sort=-sources",
        "?measure=displaced",
        "?place=mosul&sort=value",
        "?q=killed",
        "?known_at=5",
        "?valid_at=2016-11-01",
        "?known_at=12&valid_at=2017-01-01&sort=-topic",
    )
    shown = 0
    for query in queries:
        response = seeded_client.get(f"/v1/topics{query}")
        assert response.status_code == 200 and response.mimetype == "application/json"
        body = response.get_data()
        assert body == schema_bytes(seeded_client, page_schema, body), query
        shown += len(response.get_json()["items"])
    assert shown > 20
