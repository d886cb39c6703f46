"""Two `factstore project --follow` processes on one store while events are appended: each
projection is advanced by one follower at a time, so every position is applied exactly once
and the result equals a rebuild.

PostgreSQL: a transaction-scoped advisory lock per projection. SQLite: each batch runs under
BEGIN IMMEDIATE, the database's single write lock, so two followers (and the writers) take
turns; they are safe, only not parallel.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from factstore.ingest.service import ingest
from factstore.ingest.sources import read_paths
from factstore.projections import default_runner
from factstore.store.event_store import EventStore
from tests.factories import asserted, make_claim, ranked, retracted
from tests.integration.projections.test_runner import TOPICS
from tests.replay import snapshot

REPO = Path(__file__).resolve().parents[3]
APPLIED = re.compile(r"(\w+): applied (\d+)\.\.(\d+)$")
WAIT_SECONDS = 60  # for the followers to start, and to catch up at the end
MIN_APPENDS = 100
MAX_APPENDS = 1000


def _follower(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FACTSTORE_DATABASE_URL": database_url}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "factstore.cli", "project", "--follow", "--poll", "0.05"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _applied_by(log: Path) -> bool:
    return APPLIED.search(log.read_text()) is not None


def _wait_until(check: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def _append_claim_events(store: EventStore, logs: list[Path]) -> None:
    """Small appends (claims asserted, ranked, retracted) a few milliseconds apart, so both
    followers keep finding new work: at least MIN_APPENDS, and on until both have applied
    something (a loaded machine can let one follower win many rounds), at most MAX_APPENDS."""
    rng = random.Random(8)
    claims: list[tuple[str, str]] = []  # (claim id, stream)
    for number in range(MAX_APPENDS):
        if number >= MIN_APPENDS and number % 10 == 0 and all(map(_applied_by, logs)):
            return
        if claims and rng.random() < 0.4:
            claim_id, stream = rng.choice(claims)
            rank = rng.choice(["preferred", "deprecated", "normal"])
            store.append(
                stream, [ranked(claim_id, rank) if rng.random() < 0.7 else retracted(claim_id)]
            )
        else:
            article = f"a{rng.randrange(4)}"
            claim_id = f"00000000-0000-0000-0000-{number:012d}"
            claim = make_claim(
                value=rng.randint(1, 2000),
                qualifier=rng.choice(["exact", "at_least", "about"]),
                as_of=rng.choice([None, "2017-01-10", "2017-02-10"]),
                attributed_to=rng.choice([None, "UN", "Iraqi army"]),
                **rng.choice(TOPICS),
            )
            store.append(f"article-{article}", [asserted(claim_id, claim, article_id=article)])
            claims.append((claim_id, f"article-{article}"))
        time.sleep(0.01)


def test_two_followers_apply_every_position_once_and_equal_a_rebuild(
    store: EventStore, database_url: str, tmp_path: Path
) -> None:
    runner = default_runner(store)
    logs = [tmp_path / "follower-1.log", tmp_path / "follower-2.log"]
    followers = [_follower(database_url, log) for log in logs]
    try:
        _wait_until(
            lambda: all("following the log" in log.read_text() for log in logs),
            "the followers did not start",
        )
        # No runner: only the followers project.
        assert list(ingest(store, read_paths([REPO / "seeds"])))
        _append_claim_events(store, logs)
        head = store.head_position()

        def caught_up() -> bool:
            assert all(f.poll() is None for f in followers), "a follower died"
            return not any(lag.lag for lag in runner.lags())

        _wait_until(caught_up, "the followers did not catch up")
    finally:
        for follower in followers:
            follower.send_signal(signal.SIGTERM)
        for follower in followers:
            follower.wait(timeout=30)
    assert [f.returncode for f in followers] == [0, 0]

    applied: dict[str, list[tuple[int, int, int]]] = {name: [] for name in runner.projections}
    for index, log in enumerate(logs):
        for line in log.read_text().splitlines():
            found = APPLIED.search(line)
            if found:
                name, first, last = found[1], int(found[2]), int(found[3])
                applied[name].append((first, last, index))
    for name, batches in applied.items():
        batches.sort()
        # Contiguous, never overlapping: every position from 1 to the head applied exactly once.
        assert batches[0][0] == 1, name
        assert batches[-1][1] == head, name
        for (_, last, _), (first, _, _) in itertools.pairwise(batches):
            assert first == last + 1, (name, batches)
    by_follower = {index for batches in applied.values() for _, _, index in batches}
    assert by_follower == {0, 1}, (
        "both followers must have applied batches for the test to mean anything"
    )

    tables = [t for p in runner.projections.values() for t in p.tables]
    followed = snapshot(store.engine, tables)
    for name in runner.projections:
        runner.rebuild(name)
    assert snapshot(store.engine, tables) == followed
