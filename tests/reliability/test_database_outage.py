"""Connections cut under load (PostgreSQL: pg_terminate_backend on every other session of the
test database, again and again): API clients get 503 + Retry-After as problem+json, never a
500; a retried write lands exactly once; the projection follower reconnects and catches up.
Nothing is lost or doubled. (The server itself is not restarted: other sessions share it.)"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from factstore.ingest.service import ingest
from factstore.ingest.sources import ArticleInput
from factstore.projections import default_runner
from factstore.store.event_store import EventStore
from factstore.store.verification import verify_log
from tests.reliability.conftest import AUTH, projection_snapshot, rebuilt_snapshot
from tests.reliability.test_crash_recovery import article, start

ARTICLES = 15


class ConnectionCutter:
    """Terminates every other session of the store's database every `interval` seconds."""

    def __init__(self, store: EventStore, interval: float) -> None:
        self.engine = create_engine(store.engine.url, isolation_level="AUTOCOMMIT")
        self.interval = interval
        self.stop = threading.Event()
        self.cut = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def cut_now(self) -> int:
        with self.engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
        self.cut += int(killed or 0)
        return int(killed or 0)

    def _run(self) -> None:
        # The first cut right away: a fast machine may finish a short workload before the
        # first interval is over, and then nothing met a cut connection.
        self.cut_now()
        while not self.stop.wait(self.interval):
            self.cut_now()

    def __enter__(self) -> ConnectionCutter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.engine.dispose()


def test_api_answers_503_with_retry_after_and_retried_writes_land_once(
    postgres_only: None, store: EventStore, client: FlaskClient
) -> None:
    statuses: Counter[int] = Counter()
    posted = {}
    with ConnectionCutter(store, interval=0.05) as cutter:
        for n in range(ARTICLES):
            body = article(f"outage-{n}", n)
            body["source_id"] = body.pop("id")
            # A time budget, not a count: where a POST takes about as long as the gap between
            # cuts (a slow machine), most attempts meet a cut.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                response = client.post("/v1/articles", json=body, headers=AUTH)
                statuses[response.status_code] += 1
                read = client.get(f"/v1/articles/{body['source_id']}")
                statuses[read.status_code] += 1
                for answer in (response, read):
                    if answer.status_code == 503:
                        assert answer.mimetype == "application/problem+json"
                        assert int(answer.headers["Retry-After"]) > 0
                        assert "Traceback" not in answer.get_data(as_text=True)
                if response.status_code in (200, 201):
                    posted[body["source_id"]] = response.get_json()
                    break
            else:
                raise AssertionError(f"article {n} never got in: {statuses}")
    assert cutter.cut > 0
    assert set(statuses) <= {200, 201, 404, 503}, statuses
    assert statuses[503] > 0, "no request met a cut connection"

    # Each article went in exactly once (a write whose answer was lost is a no-op on retry).
    report = verify_log(store)
    assert report.ok
    versions = store.stream_versions({f"article-outage-{n}" for n in range(ARTICLES)})
    for source_id, result in posted.items():
        assert versions[result["stream_id"]] == 4, source_id  # article + three claims
    assert report.events_checked == ARTICLES * 4
    runner = default_runner(store)
    runner.catch_up()
    assert projection_snapshot(store.engine, runner) == rebuilt_snapshot(store)


def test_follower_reconnects_after_its_connections_are_cut(
    postgres_only: None, store: EventStore, tmp_path: Path
) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    log = tmp_path / "follower.log"
    follower = start(url, "project", "--follow", "--poll", "0.05", "--batch-size", "5", log=log)
    runner = default_runner(store)
    try:
        deadline = time.monotonic() + 60
        while "following the log" not in log.read_text():  # cuts start once it follows
            assert follower.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        with ConnectionCutter(store, interval=0.1) as cutter:
            for r in range(8):
                batch = [article(f"f{r}-{i}", 100 * r + i) for i in range(10)]
                inputs = [
                    ArticleInput(b["id"], b["text"], published_at=b["published_at"]) for b in batch
                ]
                for _attempt in range(50):  # this writer is cut too; it retries
                    try:
                        list(ingest(store, inputs, metadata={"actor": "outage-test"}))
                        break
                    except Exception:  # a cut connection: retried
                        time.sleep(0.05)
                time.sleep(0.2)
        assert cutter.cut > 0
        store.engine.dispose()  # this test's own pooled connections were cut too
        deadline = time.monotonic() + 60
        while any(lag.lag for lag in runner.lags()):
            assert follower.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, (runner.lags(), log.read_text()[-3000:])
            time.sleep(0.1)
    finally:
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(timeout=30) == 0
    assert "projection batch failed; retrying" in log.read_text()
    assert verify_log(store).events_checked == 8 * 10 * 4
    assert projection_snapshot(store.engine, runner) == rebuilt_snapshot(store)
