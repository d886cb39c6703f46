"""Server workers are replaced after FACTSTORE_WORKER_MAX_REQUESTS requests (so what their
heaps gather under load is bounded) without failing a request: gunicorn lets a worker finish
what it holds, and the store behind it is shared."""

from __future__ import annotations

import re
from pathlib import Path

from factstore.store.event_store import EventStore
from factstore.store.verification import verify_log
from tests.e2e.live_server import SEEDS, serve

MAX_REQUESTS = 20  # gunicorn adds up to 10 % of jitter: 20-22 per worker


def test_workers_are_replaced_after_their_requests_and_no_request_fails(
    database_url: str, store: EventStore, tmp_path: Path
) -> None:
    statuses: list[int] = []
    with serve(
        database_url, tmp_path, {"FACTSTORE_WORKER_MAX_REQUESTS": str(MAX_REQUESTS)}
    ) as server:
        for path in sorted(SEEDS.glob("*.txt")):
            status, _ = server.call(
                "POST", "/v1/articles", {"text": path.read_text(), "source_id": path.stem}
            )
            statuses.append(status)
            for _ in range(30):  # reads between the writes: 155 requests in all
                statuses.append(server.call("GET", "/v1/topics?limit=5")[0])
    booted = set(
        re.findall(r"Booting worker with pid: (\d+)", (tmp_path / "server.log").read_text())
    )

    assert statuses.count(201) == 5 and statuses.count(200) == 150, statuses
    # 2 workers at the start, then one more per 20-22 requests: at least 155 / 22 - 2 more.
    assert len(booted) >= 2 + 155 // (MAX_REQUESTS + 2) - 2
    assert verify_log(store).ok
