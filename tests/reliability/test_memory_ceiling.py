"""Issue 7, memory: the projection follower and the scheduler restart themselves in place once
their resident memory passes FACTSTORE_PROCESS_MAX_RSS_MIB (factstore.recycle), between units
of work. Here the ceiling is 1 MiB, so every unit of work ends in a restart: the process keeps
its PID throughout, nothing is lost or done twice, and SIGTERM still stops it cleanly."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

from factstore.ingest.service import ingest
from factstore.ingest.sources import read_paths
from factstore.projections import default_runner
from factstore.recycle import RESTARTING
from factstore.store.event_store import EventStore
from factstore.store.verification import verify_log
from tests.e2e.test_scheduler import runs_by, wait_for
from tests.reliability.conftest import SEEDS, projection_snapshot, rebuilt_snapshot
from tests.reliability.test_crash_recovery import start

CEILING = {"FACTSTORE_PROCESS_MAX_RSS_MIB": "1"}


def restarts(log: Path) -> int:
    return log.read_text().count(RESTARTING)


def leading(log: Path) -> bool:
    """Whether the scheduler's latest start (first or restart) has got as far as leading."""
    text = log.read_text()
    return text.rfind(" is the leader") > text.rfind(" started, standing by")


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
    follower = start(url, "project", "--follow", "--poll", "0.05", log=log, env=CEILING)
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


RESTART_SCRIPT = """
import os, signal, sys, threading
from factstore.recycle import restart_unless_stopped, stop_on_signals

incarnation = int(os.environ.get("INCARNATION", "0")) + 1
os.environ["INCARNATION"] = str(incarnation)
blocked = signal.SIGTERM in signal.pthread_sigmask(signal.SIG_BLOCK, [])
print(f"incarnation {incarnation}, SIGTERM blocked at start: {blocked}", flush=True)
stop = threading.Event()
stop_on_signals(stop)
if incarnation == 1:
    restart_unless_stopped("first", stop)
    sys.exit("not restarted")
os.kill(os.getpid(), signal.SIGTERM)  # a stop while it winds down for another restart
restart_unless_stopped("second", stop)
print(f"stopped instead: {stop.is_set()}", flush=True)
"""


def test_a_stop_while_winding_down_cancels_the_restart() -> None:
    """The process restarts with SIGTERM blocked (so a stop sent while it starts waits for its
    handler), and a stop that came before the restart cancels it instead of being lost."""
    done = subprocess.run(
        [sys.executable, "-c", RESTART_SCRIPT], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "incarnation 1, SIGTERM blocked at start: False",
        "incarnation 2, SIGTERM blocked at start: True",
        "stopped instead: True",
    ]
    assert RESTARTING in done.stderr and "second" not in done.stderr


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
    """Started and stopped (SIGTERM) four times, each at a random moment once it has restarted
    and leads again (for a stop during a restart, see the scripted test above)."""
    rng = random.Random(4)
    url = store.engine.url.render_as_string(hide_password=False)
    (tmp_path / "articles").mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:2]:
        (tmp_path / "articles" / seed.name).write_text(seed.read_text())
    (tmp_path / "sources.toml").write_text(SOURCES)
    log = tmp_path / "scheduler.log"
    for attempt in range(1, 5):
        scheduler = start(
            url, "scheduler", "--heartbeat", "0.2", log=log, cwd=tmp_path, env=CEILING
        )
        try:
            wait_for(
                lambda attempt=attempt: restarts(log) >= attempt and leading(log),
                timeout=120,
                what=f"restart {attempt}",
            )
            time.sleep(rng.uniform(0, 1.5))
        finally:
            stop_cleanly(scheduler, log)
    done = runs_by(store, "reingest.seeds")
    assert len(done) >= 4
    assert all(run["status"] == "ok" for run in done), done
    spans = sorted((run["started_at"], run["finished_at"]) for run in done)
    assert all(end <= start for (_, end), (start, _) in pairwise(spans))  # one at a time
    assert sum(run["totals"]["new"] for run in done) == 2  # ingested once, not again
    assert verify_log(store).ok
