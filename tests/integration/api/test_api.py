"""The HTTP API through Flask's test client, on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.app import MAX_JSON_DEPTH
from factstore.config import Settings
from tests.integration.api.conftest import AUTH, OTHER_TOKEN

PROBLEM = "application/problem+json"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["instance"]
    assert "Traceback" not in response.get_data(as_text=True)
    return dict(body)


def displaced_topic(client: FlaskClient) -> str:
    page = client.get("/v1/topics?measure=displaced&place=mosul").get_json()
    [topic] = [t["topic"] for t in page["items"] if t["kind"] == "total"]
    return str(topic)


def test_ingest_new_unchanged_and_revised(client: FlaskClient) -> None:
    body = {
        "text": "At least 20 people were killed in Aleppo on Monday.",
        "source_id": "w-1",
        "outlet": "Wire",
        "published_at": "2016-11-01",
        "url": "https://x.test/w-1",
    }
    created = client.post("/v1/articles", json=body, headers=AUTH)
    assert created.status_code == 201
    doc = created.get_json()
    assert doc["status"] == "new" and doc["stream_id"] == "article-w-1"
    assert created.headers["Location"] == "/v1/articles/article-w-1"
    assert doc["claims"] and doc["claims"][0]["value"] == 20
    assert doc["claims"][0]["article"]["outlet"] == "Wire"

    again = client.post("/v1/articles", json=body, headers=AUTH)
    assert again.status_code == 200
    assert again.get_json()["status"] == "unchanged" and again.get_json()["events_appended"] == 0

    revised = client.post(
        "/v1/articles", json={**body, "text": body["text"].replace("20", "44")}, headers=AUTH
    )
    assert revised.status_code == 201
    diff = revised.get_json()
    assert (diff["status"], diff["claims_asserted"], diff["claims_retracted"]) == ("revised", 1, 1)
    statuses = {c["value"]: c["status"] for c in diff["claims"]}
    assert statuses == {20: "retracted", 44: "active"}

    events = client.get("/v1/articles/article-w-1/events").get_json()
    assert events["verified"] is True
    assert [e["type"] for e in events["items"]] == [
        "ArticleIngested",
        "ClaimAsserted",
        "ArticleRevised",
        "ClaimRetracted",
        "ClaimAsserted",
    ]
    assert all(e["metadata"]["actor"] == "desk" for e in events["items"])
    assert events["items"][1]["prev_hash"] == events["items"][0]["hash"]


def test_writes_need_a_valid_token(client: FlaskClient) -> None:
    body = {"text": "Two people were hurt."}
    problem_of(client.post("/v1/articles", json=body), 401)
    wrong = client.post("/v1/articles", json=body, headers={"Authorization": "Bearer nope"})
    assert "not valid" in problem_of(wrong, 401)["detail"]
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    problem_of(client.post("/v1/articles", json=body, headers={"Authorization": "Basic x"}), 401)
    ok = client.post("/v1/articles", json=body, headers={"Authorization": f"Bearer {OTHER_TOKEN}"})
    assert ok.status_code == 201
    stream = client.get(f"/v1/articles/{ok.get_json()['stream_id']}/events").get_json()
    assert stream["items"][0]["metadata"]["actor"] == "bot"
    assert client.get("/v1/topics").status_code == 200  # reads are open by default


def test_reads_can_be_closed(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.app import create_app
    from factstore.tokens import hash_token

    monkeypatch.setenv("FACTSTORE_API_TOKENS", f"desk:{hash_token('secret')}")
    monkeypatch.setenv("FACTSTORE_API_READS_REQUIRE_TOKEN", "1")
    client = create_app(Settings(database_url=database_url)).test_client()
    problem_of(client.get("/v1/topics"), 401)
    assert client.get("/v1/topics", headers={"Authorization": "Bearer secret"}).status_code == 200


def test_bad_bodies_are_problems(client: FlaskClient) -> None:
    unknown = problem_of(
        client.post("/v1/articles", json={"text": "x", "txet": 1}, headers=AUTH), 422
    )
    assert {"field": "txet", "in": "json", "message": "Unknown field."} in unknown["errors"]
    missing = problem_of(client.post("/v1/articles", json={}, headers=AUTH), 422)
    assert missing["errors"][0]["field"] == "text"
    bad_date = problem_of(
        client.post("/v1/articles", json={"text": "x", "published_at": "yesterday"}, headers=AUTH),
        422,
    )
    assert bad_date["errors"][0]["field"] == "published_at"
    problem_of(
        client.post("/v1/articles", data="text=x", headers={**AUTH, "Content-Type": "text/plain"}),
        415,
    )
    problem_of(
        client.post(
            "/v1/articles",
            data=b'{"text": "\xff\xfe"}',
            headers={**AUTH, "Content-Type": "application/json"},
        ),
        400,
    )
    for depth, status in ((5000, 400), (MAX_JSON_DEPTH + 1, 400), (MAX_JSON_DEPTH, 422)):
        # Brackets inside strings do not nest; past the limit it is a 400 before any schema.
        nested = '{"text": "[[[{", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
        found = problem_of(
            client.post(
                "/v1/articles", data=nested, headers={**AUTH, "Content-Type": "application/json"}
            ),
            status,
        )
        assert ("nested deeper" in found["detail"]) == (status == 400)
    problem_of(
        client.post(
            "/v1/articles", data="{not json", headers={**AUTH, "Content-Type": "application/json"}
        ),
        400,
    )
    big = json.dumps({"text": "x" * 400_000})
    problem_of(
        client.post("/v1/articles", data=big, headers={**AUTH, "Content-Type": "application/json"}),
        413,
    )


def test_unknown_routes_methods_and_ids(seeded_client: FlaskClient) -> None:
    problem_of(seeded_client.get("/v1/nothing-here"), 404)
    wrong_method = problem_of(seeded_client.delete("/v1/topics"), 405)
    assert wrong_method["title"] == "Method Not Allowed"
    problem_of(seeded_client.get("/v1/topics/no.such.topic"), 404)
    problem_of(seeded_client.get("/v1/claims/' OR 1=1 --"), 404)
    problem_of(seeded_client.get("/v1/articles/..%2F..%2Fetc%2Fpasswd"), 404)
    problem_of(seeded_client.get("/v1/topics?limit=-1"), 422)
    problem_of(seeded_client.get("/v1/topics?limit=99999999999999999999"), 422)
    problem_of(seeded_client.get("/v1/events?after=-5"), 422)
    problem_of(seeded_client.get("/v1/topics?known_at=not-a-time"), 422)
    problem_of(seeded_client.get("/v1/topics?sort=price"), 422)


def test_topics_figure_history_and_time_travel(seeded_client: FlaskClient) -> None:
    topic = displaced_topic(seeded_client)
    figure = seeded_client.get(f"/v1/topics/{topic}")
    assert figure.status_code == 200
    doc = figure.get_json()
    assert (doc["figure"]["value"], doc["figure"]["qualifier"]) == (750000, "at_least")
    assert doc["figure"]["provenance"]["attributed_to"] == "UN"
    assert doc["figure"]["provenance"]["rule"]
    history = seeded_client.get(f"/v1/topics/{topic}/history").get_json()["items"]
    assert [h["to"]["value"] for h in history] == [91000, 750000]
    assert history[1]["from"]["value"] == 91000
    before = history[1]["position"] - 1
    past = seeded_client.get(f"/v1/topics/{topic}?known_at={before}").get_json()
    assert (past["figure"]["value"], past["known_at_position"]) == (91000, before)
    past_history = seeded_client.get(f"/v1/topics/{topic}/history?known_at={before}").get_json()
    assert len(past_history["items"]) == 1
    claims = seeded_client.get(f"/v1/topics/{topic}/claims").get_json()
    assert claims["total"] == 2
    page = seeded_client.get("/v1/topics?sort=-sources&limit=3").get_json()
    assert len(page["items"]) == 3 and page["total"] > 3
    assert page["items"][0]["sources"] >= page["items"][-1]["sources"]
    search = seeded_client.get("/v1/topics?q=displaced").get_json()
    assert all("displaced" in t["topic"] for t in search["items"])


def test_etags_and_not_modified(seeded_client: FlaskClient) -> None:
    topic = displaced_topic(seeded_client)
    first = seeded_client.get(f"/v1/topics/{topic}")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = seeded_client.get(f"/v1/topics/{topic}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other_query = seeded_client.get(
        f"/v1/topics/{topic}?known_at=20", headers={"If-None-Match": etag}
    )
    assert other_query.status_code == 200
    article = seeded_client.get("/v1/articles/article-000_49eab6ef55a0f380")
    assert (
        seeded_client.get(
            "/v1/articles/000_49eab6ef55a0f380", headers={"If-None-Match": article.headers["ETag"]}
        ).status_code
        == 304
    )


def test_event_log_pages_and_links(seeded_client: FlaskClient) -> None:
    first = seeded_client.get("/v1/events?after=0&limit=10")
    page = first.get_json()
    assert [e["position"] for e in page["items"]] == list(range(1, 11))
    assert first.headers["Cache-Control"].endswith("immutable")
    assert 'rel="next"' in first.headers["Link"] and "after=10" in first.headers["Link"]
    seen = page["items"]
    after = page["next_after"]
    while True:
        response = seeded_client.get(f"/v1/events?after={after}&limit=10")
        items = response.get_json()["items"]
        if not items:
            assert response.headers["Cache-Control"] == "no-cache"
            break
        seen += items
        after = response.get_json()["next_after"]
    assert len(seen) == page["head_position"]


def test_server_sent_events(seeded_client: FlaskClient) -> None:
    response = seeded_client.get("/v1/events/stream?after=3&limit=2", buffered=True)
    assert response.mimetype == "text/event-stream"
    frames = [f for f in response.get_data(as_text=True).split("\n\n") if f.startswith("id:")]
    assert [f.splitlines()[0] for f in frames] == ["id: 4", "id: 5"]
    resumed = seeded_client.get(
        "/v1/events/stream?limit=1", headers={"Last-Event-ID": "7"}, buffered=True
    ).get_data(as_text=True)
    assert "id: 8" in resumed
    for nonsense in ("\u00b2", "9" * 5000, "-1", "x"):  # "²" passes str.isdigit(), not int()
        refused = seeded_client.get(
            "/v1/events/stream?limit=1", headers={"Last-Event-ID": nonsense}
        )
        assert problem_of(refused, 422)["status"] == 422


def test_rank_and_retract_change_the_figure_and_record_the_actor(
    seeded_client: FlaskClient,
) -> None:
    topic = displaced_topic(seeded_client)
    best = seeded_client.get(f"/v1/topics/{topic}").get_json()["figure"]["provenance"]["claim_id"]
    problem_of(
        seeded_client.post(f"/v1/claims/{best}/rank", json={"rank": "deprecated", "reason": "x"}),
        401,
    )
    ranked = seeded_client.post(
        f"/v1/claims/{best}/rank",
        json={"rank": "deprecated", "reason": "double-counted"},
        headers=AUTH,
    )
    assert ranked.status_code == 201, ranked.get_json()
    assert ranked.get_json()["event"]["type"] == "ClaimRanked"
    assert ranked.get_json()["claim"]["status_history"][0]["actor"] == "desk"
    now = seeded_client.get(f"/v1/topics/{topic}").get_json()
    assert now["figure"]["value"] == 91000
    history = seeded_client.get(f"/v1/topics/{topic}/history").get_json()["items"]
    assert history[-1]["cause"]["event_type"] == "ClaimRanked"

    other = now["figure"]["provenance"]["claim_id"]
    retracted = seeded_client.post(
        f"/v1/claims/{other}/retract", json={"reason": "misread"}, headers=AUTH
    )
    assert retracted.status_code == 201
    assert seeded_client.get(f"/v1/topics/{topic}").get_json()["figure"] is None
    problem_of(
        seeded_client.post(f"/v1/claims/{other}/retract", json={"reason": "again"}, headers=AUTH),
        409,
    )
    problem_of(
        seeded_client.post(
            f"/v1/claims/{other}/rank", json={"rank": "preferred", "reason": "r"}, headers=AUTH
        ),
        409,
    )
    problem_of(
        seeded_client.post("/v1/claims/nope/retract", json={"reason": "r"}, headers=AUTH), 404
    )
    problem_of(
        seeded_client.post(
            f"/v1/claims/{best}/rank", json={"rank": "best", "reason": "r"}, headers=AUTH
        ),
        422,
    )
    claim = seeded_client.get(f"/v1/claims/{other}").get_json()
    assert (
        claim["status"] == "retracted"
        and claim["status_history"][-1]["reason"] == "analyst: misread"
    )


def test_health_and_spec(seeded_client: FlaskClient) -> None:
    health = seeded_client.get("/v1/health").get_json()
    assert health["database"] == "reachable"
    assert {p["name"]: p["lag"] for p in health["projections"]} == {"articles": 0, "figures": 0}
    spec = seeded_client.get("/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    for path in [
        "/v1/articles",
        "/v1/articles/{stream_id}",
        "/v1/articles/{stream_id}/events",
        "/v1/events",
        "/v1/events/stream",
        "/v1/topics",
        "/v1/topics/{topic}",
        "/v1/topics/{topic}/history",
        "/v1/topics/{topic}/claims",
        "/v1/claims/{claim_id}",
        "/v1/claims/{claim_id}/rank",
        "/v1/claims/{claim_id}/retract",
        "/v1/health",
    ]:
        assert path in spec["paths"], path
    from openapi_spec_validator import validate

    validate(spec)
    docs = seeded_client.get("/v1/docs")
    assert docs.status_code == 200 and b"/v1/topics/{topic}/history" in docs.get_data()
    assert b"<script" not in docs.get_data() and b"http" not in docs.get_data().split(b"<body>")[0]


def test_database_down_is_503_with_retry_after(tmp_path: Any) -> None:
    from api.app import create_app

    missing = tmp_path / "no-such-dir" / "store.db"
    client = create_app(Settings(database_url=f"sqlite:///{missing}")).test_client()
    body = problem_of(client.get("/v1/health"), 503)
    assert "sqlite" not in json.dumps(body).lower() and "select" not in json.dumps(body).lower()
    assert client.get("/v1/health").headers["Retry-After"] == "5"


def test_nul_characters_are_refused(client: FlaskClient) -> None:
    for body in ({"text": "ten\x00people"}, {"text": "ok", "title": "a\x00b"}):
        refused = problem_of(client.post("/v1/articles", json=body, headers=AUTH), 422)
        assert "NUL" in refused["errors"][0]["message"]


def test_idempotency_key_replays_the_first_response(client: FlaskClient) -> None:
    body = {"text": "At least 20 people were killed in Aleppo.", "source_id": "idem-1"}
    headers = {**AUTH, "Idempotency-Key": "req-42"}
    first = client.post("/v1/articles", json=body, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    head = client.get("/v1/health").get_json()["head_position"]
    again = client.post("/v1/articles", json=body, headers=headers)
    # Without the key a repeat says "unchanged" (200); with it, the first answer comes back.
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert client.get("/v1/health").get_json()["head_position"] == head
    other = client.post("/v1/articles", json={**body, "text": "Five were hurt."}, headers=headers)
    assert problem_of(other, 422)["type"].endswith("idempotency-key-reused")
    problem_of(
        client.post("/v1/articles", json=body, headers={**AUTH, "Idempotency-Key": " "}), 422
    )
    problem_of(client.post("/v1/articles", json=body, headers={"Idempotency-Key": "k"}), 401)


def test_not_found_says_what_was_not_found(seeded_client: FlaskClient) -> None:
    body = problem_of(seeded_client.get("/v1/topics/no.such.topic"), 404)
    assert "no.such.topic" in body["detail"]


def test_article_list_filters_and_stream_ranges(client: FlaskClient) -> None:
    for i, (outlet, day) in enumerate([("Wire", "2016-11-01"), ("Post", "2016-11-03")]):
        body = {
            "text": f"{i + 3} people were hurt.",
            "source_id": f"l-{i}",
            "outlet": outlet,
            "published_at": day,
        }
        assert client.post("/v1/articles", json=body, headers=AUTH).status_code == 201
    page = client.get("/v1/articles").get_json()
    assert [a["stream_id"] for a in page["items"]] == ["article-l-1", "article-l-0"]
    assert client.get("/v1/articles?outlet=Wire").get_json()["total"] == 1
    since = client.get("/v1/articles?published_from=2016-11-02").get_json()
    assert [a["article_id"] for a in since["items"]] == ["l-1"]
    until = client.get("/v1/articles?published_to=2016-11-01").get_json()
    assert [a["article_id"] for a in until["items"]] == ["l-0"]
    ranged = client.get("/v1/articles/l-0/events?from_version=2&to_version=2").get_json()
    assert [e["version"] for e in ranged["items"]] == [2] and ranged["verified"] is True
