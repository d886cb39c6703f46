"""The real scheduler process (`factstore scheduler`), several against one database: only the
leader runs jobs, another takes over when it stops or is killed; an article edited on a real
HTTP server on loopback changes the figure on the next scheduled run; a run request is served
within a heartbeat; SIGTERM exits cleanly."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from factstore.config import Settings
from factstore.ingest.registry import recent_runs, request_run
from factstore.ingest.scheduler import scheduler_status
from factstore.projections import queries
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from tests.support.http_server import ArticleServer, serve_articles
from tests.support.scheduler_processes import Launch, scheduler_processes

REPO = Path(__file__).resolve().parents[2]
TOPIC = "incident.killed.civilians.raqqa.2017-06-29"
SOURCES = """
[[sources]]
id = "wire"
kind = "http"
urls = ["{url}"]
allow_hosts = ["{authority}"]
interval = "1s"

[[sources]]
id = "manual"
kind = "directory"
path = "manual"
interval = "1d"
"""


def page(toll: str) -> str:
    return f"""<!DOCTYPE html><html><head><title>Air strike on Raqqa | Example News</title>
<meta property="article:published_time" content="2017-06-29T18:00:00Z"></head><body>
<nav><a href="/">Home</a></nav><main><article><h1>Air strike on Raqqa</h1>
<p>{toll} civilians were killed in an air strike on Raqqa on Thursday, the Syrian Observatory
for Human Rights said, adding that the toll could rise as rescuers searched the rubble.</p>
<p>The strike hit a market in the east of the city during the morning, residents said.</p>
</article></main><footer>Copyright 2017 Example News Ltd.</footer></body></html>"""


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll until check() is truthy (generous: only a failure waits that long)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server() -> Iterator[ArticleServer]:
    with serve_articles() as running:
        running.set("/raqqa", page("At least 20"))
        yield running


@pytest.fixture
def workdir(tmp_path: Path, server: ArticleServer) -> Path:
    (tmp_path / "manual").mkdir()
    (tmp_path / "manual" / "note.txt").write_text("Nothing numeric happened today.")
    sources = SOURCES.format(url=server.url("/raqqa"), authority=server.authority)
    (tmp_path / "sources.toml").write_text(sources)
    return tmp_path


@pytest.fixture
def start(database_url: str, workdir: Path) -> Iterator[Launch]:
    with scheduler_processes(database_url, workdir, 0.3) as launch:
        yield launch


def runs_by(store: EventStore, job_id: str) -> list[dict[str, Any]]:
    """The job's finished runs, newest first."""
    return [r for r in recent_runs(store, job_id, limit=1000) if r["finished_at"] is not None]


def instance_of(store: EventStore, pid: int) -> str:
    """The instance name of the process with this pid, once it leads."""
    status = scheduler_status(store.engine, heartbeat_s=0.3)
    if status is None or status["pid"] != pid or status["role"] != "leader":
        return ""
    return str(status["instance"])


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    return output


def test_two_schedulers_one_leader_takeover_edit_and_request(
    database_url: str,
    workdir: Path,
    server: ArticleServer,
    start: Callable[[], subprocess.Popen[str]],
) -> None:
    engine = create_store_engine(database_url)
    store = EventStore(engine)
    try:
        first = start()
        wait_for(lambda: instance_of(store, first.pid), what="the first scheduler to lead")
        second = start()
        wait_for(
            lambda: (scheduler_status(engine, heartbeat_s=0.3) or {}).get("standby") == 1,
            what="the second scheduler to stand by",
        )
        leader = instance_of(store, first.pid)
        # GET /v1/health shows the leader's heartbeat.
        app = create_app(Settings(database_url=database_url))
        health = app.test_client().get("/v1/health").get_json()["scheduler"]
        app.extensions["factstore"].store.engine.dispose()
        assert (health["status"], health["pid"], health["standby"]) == ("running", first.pid, 1)
        assert health["heartbeat_age_s"] < 30
        wait_for(lambda: len(runs_by(store, "reingest.wire")) >= 3, what="three scheduled runs")

        # Unchanged meanwhile: conditional GETs, nothing appended but the runs themselves.
        assert all(
            r["totals"]["events_appended"] == 0 for r in runs_by(store, "reingest.wire")[:-1]
        )
        assert server.requests_to("/raqqa")[-1].status == 304
        # The article is edited: the next scheduled run revises it and the figure follows.
        server.set("/raqqa", page("At least 44"))
        wait_for(
            lambda: (
                (queries.topic_figure(engine, TOPIC) or {}).get("figure", {}).get("value") == 44
            ),
            what="the edited toll to become the figure",
        )
        history = queries.topic_history(engine, TOPIC) or []
        assert [h["to"]["value"] for h in history] == [20, 44]
        assert "ArticleRevised" in history[-1]["cause"]["detail"]

        # A run request (POST /v1/jobs/{id}/run records one) is served by the leader at once,
        # though the job's schedule says once a day.
        request_id = request_run(store, "reingest.manual", "tester")
        requested = wait_for(lambda: runs_by(store, "reingest.manual"), what="the requested run")
        assert requested[0]["trigger"] == "request"
        assert requested[0]["requests"] == [request_id]
        assert requested[0]["sources"][0]["new"] == 1

        # Until it stops, only the leader ran anything: two processes never both run a job.
        before_stop = runs_by(store, "reingest.wire")
        assert {r["instance"] for r in before_stop} == {leader}
        # Runs of one job never overlap (max_instances=1, one leader).
        spans = sorted((r["started_at"], r["finished_at"]) for r in before_stop)
        assert all(later[0] >= earlier[1] for earlier, later in pairwise(spans))
        output = stop(first)
        assert "is the leader" in output and "stopped" in output

        # The standby takes over and runs the jobs from where they were.
        successor = wait_for(lambda: instance_of(store, second.pid), what="the takeover")
        wait_for(
            lambda: any(r["instance"] == successor for r in runs_by(store, "reingest.wire")),
            what="a run by the new leader",
        )

        # A leader that dies without a word (SIGKILL) frees the lock with its process or
        # connection: a third process takes over.
        third = start()
        wait_for(
            lambda: (scheduler_status(engine, heartbeat_s=0.3) or {}).get("standby") == 1,
            what="the third scheduler to stand by",
        )
        second.kill()
        second.wait(timeout=20)
        heir = wait_for(lambda: instance_of(store, third.pid), what="the takeover after a kill")
        wait_for(
            lambda: any(r["instance"] == heir for r in runs_by(store, "reingest.wire")),
            what="a run by the third leader",
        )
        stop(third)
        # Once the killed leader's last heartbeat is stale (3 beats), nothing runs: "stopped".
        wait_for(
            lambda: (scheduler_status(engine, heartbeat_s=0.3) or {}).get("status") == "stopped",
            timeout=10,
            what="the status to read stopped",
        )
    finally:
        engine.dispose()
