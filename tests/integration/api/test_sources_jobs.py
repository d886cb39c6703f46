"""/v1/sources and /v1/jobs over the Flask test client, on both backends: sources from the file
and from the API (recorded as events), jobs with their runs, run requests recorded for the
scheduler, errors as problem+json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from factstore.domain import runs
from factstore.ingest.registry import load_sources
from factstore.ingest.reingest import run_sources
from factstore.projections import default_runner
from tests.integration.api.conftest import AUTH

PROBLEM = "application/problem+json"


@pytest.fixture
def wire_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "wire"
    folder.mkdir()
    record = {
        "id": "raqqa",
        "published_at": "2017-06-29",
        "text": "At least 20 civilians were killed in an air strike on Raqqa on Thursday.",
    }
    (folder / "raqqa.json").write_text(json.dumps(record))
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nid = "wire"\nkind = "directory"\npath = "wire"\n')
    monkeypatch.setenv("FACTSTORE_SOURCES", str(sources))
    return folder


def test_sources_from_the_file_and_the_api(
    client: FlaskClient, app: Flask, wire_folder: Path
) -> None:
    listed = client.get("/v1/sources").get_json()
    assert [(s["id"], s["kind"], s["origin"], s["schedule"]) for s in listed["items"]] == [
        ("wire", "directory", "file", "every 1h")
    ]
    assert listed["items"][0]["path"] == str(wire_folder)

    feed = {
        "id": "agency",
        "kind": "feed",
        "urls": ["https://news.example/rss"],
        "schedule": "0 */6 * * *",
    }
    refused = client.post("/v1/sources", json=feed)
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    added = client.post("/v1/sources", json=feed, headers=AUTH)
    assert added.status_code == 201, added.get_json()
    assert added.get_json() == {
        "id": "agency",
        "kind": "feed",
        "urls": ["https://news.example/rss"],
        "cron": "0 */6 * * *",
        "schedule": "cron 0 */6 * * *",
        "origin": "api",
        "job_id": "reingest.agency",
    }
    assert client.post("/v1/sources", json=feed, headers=AUTH).status_code == 409
    taken = client.post("/v1/sources", json={**feed, "id": "wire"}, headers=AUTH)
    assert taken.status_code == 409 and "exists already" in taken.get_json()["detail"]

    url = ["https://a.example/rss"]
    for bad, field in [
        ({"id": "x", "kind": "directory", "urls": url}, "kind"),
        ({"id": "x", "kind": "http", "urls": url, "path": "/etc"}, "path"),
        ({"id": "x", "kind": "feed", "urls": url, "schedule": "often"}, "schedule"),
        ({"id": "x", "kind": "feed", "urls": url, "schedule": "61 * * * *"}, "schedule"),
        ({"id": "x", "kind": "feed", "urls": url, "allow_private": True}, "allow_private"),
        ({"id": "x", "kind": "http", "urls": ["gopher://a.example/1"]}, "urls.0"),
        ({"id": "Not An Id", "kind": "feed", "urls": url}, "id"),
    ]:
        response = client.post("/v1/sources", json=bad, headers=AUTH)
        assert response.status_code == 422, (bad, response.get_json())
        assert response.mimetype == PROBLEM
        if field is not None:
            assert field in {e["field"] for e in response.get_json()["errors"]}

    assert client.get("/v1/sources/agency").get_json()["urls"] == feed["urls"]
    assert client.delete("/v1/sources/wire", headers=AUTH).status_code == 409
    assert client.delete("/v1/sources/agency").status_code == 401
    assert client.delete("/v1/sources/agency", headers=AUTH).status_code == 204
    missing = client.get("/v1/sources/agency")
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    assert client.delete("/v1/sources/agency", headers=AUTH).status_code == 404

    # Nothing was deleted: the sources stream records both, with the actor.
    store = app.extensions["factstore"].store
    events = store.read_stream(runs.SOURCES_STREAM)
    assert [(e.type, e.metadata["actor"]) for e in events] == [
        (runs.SOURCE_ADDED, "desk"),
        (runs.SOURCE_REMOVED, "desk"),
    ]


def test_jobs_runs_and_run_requests(client: FlaskClient, app: Flask, wire_folder: Path) -> None:
    store = app.extensions["factstore"].store
    [wire] = load_sources(store).sources
    run_sources(store, default_runner(store), [wire], job_id=wire.job_id, trigger="cli", actor="t")
    (wire_folder / "raqqa.json").unlink()
    run_sources(store, default_runner(store), [wire], job_id=wire.job_id, trigger="cli", actor="t")

    jobs = client.get("/v1/jobs").get_json()
    assert [j["id"] for j in jobs["items"]] == ["reingest.wire", "reextract"]
    assert jobs["scheduler"] is None  # no scheduler ever ran against this database
    last = jobs["items"][0]["last_run"]
    assert last["status"] == "ok" and last["sources"][0]["withdrawn"] == 1
    assert jobs["items"][1]["last_run"] is None

    history = client.get("/v1/jobs/reingest.wire/runs").get_json()
    assert [r["sources"][0]["new"] for r in history["items"]] == [0, 1]
    assert history["items"][1]["totals"]["events_appended"] >= 2
    assert client.get("/v1/jobs/reingest.wire/runs?limit=1").get_json()["items"][0] == last
    assert client.get("/v1/jobs/reingest.wire/runs?limit=0").status_code == 422
    unknown = client.get("/v1/jobs/reingest.nope/runs")
    assert unknown.status_code == 404 and unknown.mimetype == PROBLEM

    assert client.post("/v1/jobs/reingest.wire/run").status_code == 401
    assert client.post("/v1/jobs/nope/run", headers=AUTH).status_code == 404
    queued = client.post("/v1/jobs/reingest.wire/run", headers=AUTH)
    assert queued.status_code == 202
    body = queued.get_json()
    assert body["status"] == "queued" and body["scheduler"] is None
    [request] = store.read_stream(runs.RUN_REQUESTS_STREAM)
    assert request.data == {"request_id": body["request_id"], "job_id": "reingest.wire"}
    assert client.get("/v1/health").get_json()["scheduler"] is None
