"""Read/write split and read-your-writes (api.consistency), on both databases.

A second migrated database that receives no writes plays a replica that has fallen behind:
reads go to it until a client asks for a position it lacks, then to the primary. The real
streaming replica is exercised in tests/integration/deploy/test_read_replica.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from factstore.config import Settings
from factstore.store.database import create_store_engine
from tests.conftest import Databases
from tests.integration.api.conftest import AUTH
from tests.integration.api.test_api import problem_of

ARTICLE = {
    "text": "At least 20 civilians were killed in an air strike on Raqqa on Thursday, "
    "the Syrian Observatory said.",
    "source_id": "wire-raqqa",
    "published_at": "2017-06-29",
}
WAIT_MS = 200
READS = (
    "/v1/articles",
    "/v1/articles/article-wire-raqqa",
    "/v1/articles/article-wire-raqqa/events",
    "/v1/events",
    "/v1/topics",
)


@contextmanager
def _app(primary: str, replica: str | None) -> Iterator[Flask]:
    app = create_app(
        Settings(database_url=primary, read_database_url=replica, min_position_wait_ms=WAIT_MS)
    )
    yield app
    found = app.extensions["factstore"]
    found.store.engine.dispose()
    if found.replica is not None:
        found.replica.engine.dispose()


@pytest.fixture
def stale_replica(databases: Databases) -> str:
    return databases.migrated()


@pytest.fixture
def split_client(app: Flask, database_url: str, stale_replica: str) -> Iterator[FlaskClient]:
    # `app` sets the tokens; this app adds the lagging replica.
    with _app(database_url, stale_replica) as split:
        yield split.test_client()


def _write(client: FlaskClient) -> int:
    response = client.post("/v1/articles", json=ARTICLE, headers=AUTH)
    assert response.status_code == 201
    position = int(response.headers["Factstore-Position"])
    assert position == response.get_json()["head_position"] > 0
    return position


def test_every_response_says_its_position(client: FlaskClient) -> None:
    assert client.get("/v1/topics").headers["Factstore-Position"] == "0"
    position = _write(client)
    for path in READS:
        response = client.get(path)
        assert response.status_code == 200, path
        assert int(response.headers["Factstore-Position"]) == position, path
    claim_id = client.get("/v1/articles/article-wire-raqqa").get_json()["claims"][0]["claim_id"]
    assert client.get(f"/v1/claims/{claim_id}").headers["Factstore-Position"] == str(position)
    ranked = client.post(
        f"/v1/claims/{claim_id}/rank", json={"rank": "preferred", "reason": "checked"}, headers=AUTH
    )
    assert int(ranked.headers["Factstore-Position"]) == position + 1
    assert "Factstore-Position" not in client.get("/v1/topics/no.such").headers


def test_min_position_within_reach_answers_beyond_it_is_a_bounded_503(
    client: FlaskClient,
) -> None:
    position = _write(client)
    for path in READS:
        by_query = client.get(f"{path}{'&' if '?' in path else '?'}min_position={position}")
        assert by_query.status_code == 200, path
        by_header = client.get(path, headers={"Factstore-Min-Position": str(position)})
        assert by_header.status_code == 200, path

    started = time.monotonic()
    late = client.get("/v1/topics", headers={"Factstore-Min-Position": str(position + 1)})
    waited = time.monotonic() - started
    body = problem_of(late, 503)
    assert body["type"].endswith("/position-not-reached")
    assert (body["min_position"], body["position"]) == (position + 1, position)
    assert late.headers["Retry-After"] == "1"
    assert waited >= WAIT_MS / 1000


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?min_position=-1", {}), ("?min_position=x", {}), ("", {"Factstore-Min-Position": "1e3"})],
)
def test_a_malformed_min_position_is_a_422(
    client: FlaskClient, query: str, headers: dict[str, str]
) -> None:
    problem_of(client.get(f"/v1/topics{query}", headers=headers), 422)


def test_reads_use_the_replica_until_the_client_needs_fresher(split_client: FlaskClient) -> None:
    position = _write(split_client)  # to the primary: the replica never sees it
    stale = split_client.get("/v1/articles")
    assert stale.headers["Factstore-Position"] == "0"
    assert stale.get_json()["total"] == 0
    assert split_client.get("/v1/articles/article-wire-raqqa").status_code == 404

    fresh = split_client.get(f"/v1/articles?min_position={position}")
    assert fresh.headers["Factstore-Position"] == str(position)
    assert fresh.get_json()["total"] == 1
    article = split_client.get(
        "/v1/articles/article-wire-raqqa", headers={"Factstore-Min-Position": str(position)}
    )
    assert article.status_code == 200 and article.get_json()["claims"]


def test_an_unreachable_replica_degrades_reads_to_the_primary(
    app: Flask, database_url: str, backend: str
) -> None:
    unreachable = (
        "sqlite:////nonexistent-folder/replica.db"
        if backend == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
    )
    with _app(database_url, unreachable) as split:
        client = split.test_client()
        position = _write(client)
        response = client.get("/v1/articles")
        assert response.status_code == 200
        assert response.headers["Factstore-Position"] == str(position)


def test_the_read_engine_refuses_writes(database_url: str) -> None:
    engine = create_store_engine(database_url, read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 0
        with pytest.raises(DBAPIError, match=r"(?i)read.only|readonly"), engine.begin() as conn:
            conn.execute(text("CREATE TABLE written_through_reader (x INTEGER)"))
    finally:
        engine.dispose()


def test_the_spec_documents_freshness_on_every_read_and_position_on_every_write(
    client: FlaskClient,
) -> None:
    spec = client.get("/v1/openapi.json").get_json()
    reads = writes = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post") or path in ("/v1/health",):
                continue
            names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            ok = next(r for s, r in operation["responses"].items() if s.startswith("2"))
            assert "Factstore-Position" in ok.get("headers", {}), (method, path)
            if method == "get":
                reads += 1
                assert {("query", "min_position"), ("header", "Factstore-Min-Position")} <= names
                assert "503" in operation["responses"], path
            else:
                writes += 1
    assert (reads, writes) == (14, 5)
