"""Revisions of one article racing over the API: each expected version has one winner (201),
the others get 409 (problem+json, nothing written) and win on retry; the stream ends with
every revision exactly once and the log and projections are consistent."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from factstore.projections import default_runner
from factstore.store.verification import verify_log
from tests.reliability.conftest import AUTH, projection_snapshot, rebuilt_snapshot
from tests.reliability.test_crash_recovery import article

WRITERS = 6


def test_racing_revisions_one_winner_per_version_the_rest_409_then_retry(app: Flask) -> None:
    first = article("race-1", 1)
    first["source_id"] = first.pop("id")
    assert app.test_client().post("/v1/articles", json=first, headers=AUTH).status_code == 201

    barrier = threading.Barrier(WRITERS)
    outcomes: list[list[tuple[int, Any]]] = [[] for _ in range(WRITERS)]

    def revise(writer: int) -> None:
        client = app.test_client()
        body = article("race-1", 1, revision=writer + 1)  # a different figure per writer
        body["source_id"] = body.pop("id")
        barrier.wait()
        for _attempt in range(20):
            response = client.post("/v1/articles", json=body, headers=AUTH)
            outcomes[writer].append((response.status_code, response.get_json()))
            if response.status_code != 409:
                return
            assert response.mimetype == "application/problem+json"

    threads = [threading.Thread(target=revise, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = [status for attempts in outcomes for status, _ in attempts]
    assert set(statuses) <= {201, 409}, statuses
    assert 409 in statuses, "the writers did not race"
    wins = [body for attempts in outcomes for status, body in attempts if status == 201]
    assert len(wins) == WRITERS  # every writer's revision got in, once
    versions = sorted(body["version"] for body in wins)
    assert len(set(versions)) == WRITERS  # one winner per version
    store = app.extensions["factstore"].store
    stream = store.read_stream("article-race-1")
    assert len(stream) == 4 + sum(body["events_appended"] for body in wins)
    assert [e.version for e in stream] == list(range(1, len(stream) + 1))
    assert verify_log(store).ok
    runner = default_runner(store)
    runner.catch_up()
    assert projection_snapshot(store.engine, runner) == rebuilt_snapshot(store)
