"""kill -9 at random points: the `factstore ingest` process (mid-batch, between the append and
the inline projection update, mid-checkpoint) and the `factstore project --follow` process.
After every kill the log verifies, no event is duplicated, and every article stream is whole
(one ingest is one append: a stream is never cut inside it). After the restarts finish the
work, the log equals an uninterrupted ingest of the same input event for event, and every
projection equals a fresh rebuild.

The normal suite runs a handful of kills per process; `-m slow` runs many more."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest

from factstore.ingest.service import ingest
from factstore.ingest.sources import read_paths
from factstore.projections import default_runner
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.verification import verify_log
from tests.conftest import Databases
from tests.reliability.conftest import REPO, projection_snapshot, rebuilt_snapshot

PLACES = ["Mosul", "Raqqa", "Aleppo", "Homs", "Idlib", "Fallujah", "Ramadi", "Tikrit", "Kirkuk"]
# The command needs ~0.6 s to start; kills land from just before its first write to well after.
KILL_WINDOW_S = (0.5, 1.5)
# What `factstore ingest --actor kill-test` records, so the reference run writes the same events.
CLI_METADATA = {"actor": "kill-test", "source": "cli:ingest"}


def article(article_id: str, n: int, revision: int = 0) -> dict[str, Any]:
    killed = 100 + n + 1000 * revision
    text = (
        f"At least {killed} civilians were killed in {PLACES[n % 9]} since February, the UN "
        f"said. More than {1000 + 7 * n} people have been displaced from {PLACES[(3 * n + 1) % 9]}"
        f", according to the Syrian Observatory. Officials said {5 + n % 40 + revision} militants "
        f"were killed in {PLACES[(n + 5) % 9]} on Tuesday."
    )
    return {
        "id": article_id,
        "outlet": "Wire",
        "published_at": f"2017-05-{1 + n % 28:02d}",
        "text": text,
    }


def round_file(folder: Path, r: int, articles: int, revised: int) -> Path:
    """Round r: new articles, and revisions of some of round r-1's (each id once per file, so
    running a file again changes nothing)."""
    records = [article(f"r{r}-{i}", r * 1000 + i) for i in range(articles)]
    if r:
        records += [article(f"r{r - 1}-{i}", (r - 1) * 1000 + i, 1) for i in range(revised)]
    path = folder / f"round-{r}.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def streams(store: EventStore) -> dict[str, list[tuple[Any, ...]]]:
    """Each stream's events as (event id, type, data, metadata, time of its append)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for event in store.iter_all():
        found.setdefault(event.stream_id, []).append(
            (event.event_id, event.type, event.data, event.metadata, event.recorded_at)
        )
    return found


def without_time(events: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [event[:4] for event in events]


def append_ends(events: list[tuple[Any, ...]]) -> set[int]:
    """Stream lengths at which one of its appends ended (an append shares one timestamp)."""
    ends, length = {0}, 0
    for _, group in groupby(events, key=lambda event: event[4]):
        length += len(list(group))
        ends.add(length)
    return ends


def start(
    database_url: str, *args: str, log: Path, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`factstore ARGS` in the background, its output appended to `log`; the environment holds
    the database URL and `env`, nothing of the test run's."""
    env = {"FACTSTORE_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", **(env or {})}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "factstore.cli", *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill_at_random(process: subprocess.Popen[bytes], rng: random.Random) -> bool:
    """SIGKILL after a random delay; False if the process had already finished (cleanly)."""
    deadline = time.monotonic() + rng.uniform(*KILL_WINDOW_S)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.returncode == 0
            return False
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return process.returncode == -signal.SIGKILL


def check_after_kill(store: EventStore, reference: dict[str, list[tuple[Any, ...]]]) -> None:
    report = verify_log(store)
    assert report.ok, report.broken
    found = streams(store)
    ids = [event[0] for events in found.values() for event in events]
    assert len(ids) == len(set(ids)) == report.events_checked
    for stream_id, events in found.items():
        expected = reference[stream_id]
        assert len(events) in append_ends(expected), f"{stream_id} is cut inside an append"
        assert without_time(events) == without_time(expected[: len(events)])


KILLS = [pytest.param(5, id="5-kills"), pytest.param(60, id="60-kills", marks=pytest.mark.slow)]


@pytest.mark.parametrize("kills", KILLS)
def test_kill_9_during_ingest_loses_doubles_and_half_writes_nothing(
    store: EventStore, databases: Databases, tmp_path: Path, kills: int
) -> None:
    rng = random.Random(kills)
    reference_store = EventStore(create_store_engine(databases.migrated()))
    url = store.engine.url.render_as_string(hide_password=False)
    log = tmp_path / "ingest.log"
    done = 0
    try:
        for r in range(3 * kills):  # rounds until every kill has landed
            path = round_file(tmp_path, r, articles=100, revised=30)
            list(ingest(reference_store, read_paths([path]), metadata=CLI_METADATA))
            reference = streams(reference_store)
            args = ("ingest", "-q", "--actor", "kill-test", "--batch-size", "10", str(path))
            while True:
                process = start(url, *args, log=log)
                if done < kills and kill_at_random(process, rng):
                    done += 1
                    check_after_kill(store, reference)
                    continue
                assert process.wait(timeout=120) == 0, log.read_text()[-2000:]
                break  # this round is fully ingested
            if done == kills:
                break
    finally:
        reference_store.engine.dispose()
    assert done == kills

    check_after_kill(store, reference)
    assert without_time_all(streams(store)) == without_time_all(reference)
    runner = default_runner(store)
    assert all(lag.lag == 0 for lag in runner.lags())
    assert projection_snapshot(store.engine, runner) == rebuilt_snapshot(store)


def without_time_all(found: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {stream_id: without_time(events) for stream_id, events in found.items()}


@pytest.mark.parametrize("kills", KILLS)
def test_kill_9_of_the_projection_follower_loses_and_doubles_nothing(
    store: EventStore, tmp_path: Path, kills: int
) -> None:
    rng = random.Random(kills)
    url = store.engine.url.render_as_string(hide_password=False)
    log = tmp_path / "follower.log"
    args = ("project", "--follow", "--poll", "0.05", "--batch-size", "5")
    runner = default_runner(store)
    progress = []
    for r in range(kills):
        # A backlog first, then more log before each start; the kill lands once it is at work.
        path = round_file(tmp_path, r, articles=150 if r == 0 else 20, revised=10)
        # small transactions: a follower batch ends only where an append ended
        list(ingest(store, read_paths([path]), metadata=CLI_METADATA, batch_size=2))
        before = [lag.checkpoint for lag in runner.lags()]
        follower = start(url, *args, log=log)
        deadline = time.monotonic() + 60
        while [lag.checkpoint for lag in runner.lags()] == before:
            assert time.monotonic() < deadline and follower.poll() is None, log.read_text()[-2000:]
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.1))
        follower.send_signal(signal.SIGKILL)
        follower.wait(timeout=30)
        lags = runner.lags()
        assert all(0 <= lag.checkpoint <= lag.head for lag in lags)
        progress.append(max(lag.lag for lag in lags))
    assert all(progress), f"every kill lands before the follower has caught up: {progress}"
    # More log, so the last follower has work (and has set up its signals when lag reaches 0).
    list(ingest(store, read_paths([round_file(tmp_path, kills, 20, 10)]), metadata=CLI_METADATA))
    follower = start(url, *args, log=log)
    try:
        deadline = time.monotonic() + 120
        while any(lag.lag for lag in runner.lags()):
            assert time.monotonic() < deadline and follower.poll() is None, log.read_text()[-2000:]
            time.sleep(0.1)
    finally:
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(timeout=30) == 0
    assert verify_log(store).ok
    assert projection_snapshot(store.engine, runner) == rebuilt_snapshot(store)


def test_batches_end_only_where_an_append_ended(store: EventStore, tmp_path: Path) -> None:
    """Found by the follower kill test: a batch boundary inside a revision's append split its
    one history change into two, so the incremental figures differed from a rebuild."""
    for r in range(2):
        list(ingest(store, read_paths([round_file(tmp_path, r, 20, 10)]), metadata=CLI_METADATA))
    runner = default_runner(store)
    runner.catch_up(batch_size=1)
    incremental = projection_snapshot(store.engine, runner)
    for name in runner.projections:
        runner.rebuild(name, batch_size=1)
    assert projection_snapshot(store.engine, runner) == incremental
    assert rebuilt_snapshot(store) == incremental
