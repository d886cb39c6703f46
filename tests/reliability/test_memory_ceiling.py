"""Issue 7, memory: the projection follower and the scheduler restart themselves in place once
their resident memory passes FACTSTORE_PROCESS_MAX_RSS_MIB (factstore.recycle), between units
of work. Here the ceiling is 1 MiB, so every unit of work ends in a restart: the process keeps
its PID throughout, nothing is lost or done twice, and SIGTERM still stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

from factstore.ingest.service import ingest
from factstore.ingest.sources import read_paths
from factstore.projections import default_runner
from factstore.recycle import RESTARTING
from factstore.store.event_store import EventStore
from factstore.store.verification import verify_log
from tests.e2e.test_scheduler import runs_by, wait_for
from tests.reliability.conftest import REPO, SEEDS, projection_snapshot, rebuilt_snapshot


def launch(database_url: str, args: list[str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FACTSTORE_DATABASE_URL": database_url,
        "FACTSTORE_PROCESS_MAX_RSS_MIB": "1",
        "PYTHONPATH": str(REPO),
    }
    env.pop("FACTSTORE_SOURCES", None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "factstore.cli", *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def restarts(log: Path) -> int:
    return log.read_text().count(RESTARTING)


def stop_cleanly(process: subprocess.Popen[bytes], log: Path) -> None:
    assert process.poll() is None, log.read_text()[-2000:]  # the same process all along
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()[-2000:]


def test_the_follower_restarts_past_its_ceiling_and_loses_nothing(
    store: EventStore, tmp_path: Path
) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    log = tmp_path / "follower.log"
    runner = default_runner(store)
    follower = launch(url, ["project", "--follow", "--poll", "0.05"], log, tmp_path)
    try:
        seeds = sorted(SEEDS.glob("*.txt"))
        for done, seed in enumerate(seeds, start=1):
            list(ingest(store, read_paths([seed]), metadata={"actor": "ceiling-test"}))
            wait_for(
                lambda done=done: (
                    not any(lag.lag for lag in runner.lags()) and restarts(log) >= done
                ),
                what=f"the follower to apply seed {done} and restart",
            )
    finally:
        stop_cleanly(follower, log)
    assert restarts(log) >= len(seeds)
    assert verify_log(store).ok
    assert projection_snapshot(store.engine, runner) == rebuilt_snapshot(store)


SOURCES = """
[[sources]]
id = "seeds"
kind = "directory"
path = "articles"
interval = "1s"
"""


def test_the_scheduler_restarts_between_runs_and_every_run_finishes(
    store: EventStore, tmp_path: Path
) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    (tmp_path / "articles").mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:2]:
        (tmp_path / "articles" / seed.name).write_text(seed.read_text())
    (tmp_path / "sources.toml").write_text(SOURCES)
    log = tmp_path / "scheduler.log"
    scheduler = launch(url, ["scheduler", "--heartbeat", "0.2"], log, tmp_path)
    try:
        wait_for(
            lambda: len(runs_by(store, "reingest.seeds")) >= 3 and restarts(log) >= 2,
            timeout=120,
            what="three runs and two restarts",
        )
    finally:
        stop_cleanly(scheduler, log)
    done = runs_by(store, "reingest.seeds")
    assert all(run["status"] == "ok" for run in done), done
    spans = sorted((run["started_at"], run["finished_at"]) for run in done)
    assert all(end <= start for (_, end), (start, _) in pairwise(spans))  # one at a time
    assert sum(run["totals"]["new"] for run in done) == 2  # ingested once, not again
    assert verify_log(store).ok
