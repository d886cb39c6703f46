"""Issue 7, the scheduler's part: real `factstore scheduler` processes killed with SIGKILL at
random moments of a re-ingestion run, and (PostgreSQL) their connections cut with
`pg_terminate_backend`. Afterwards the log verifies, the projections equal a fresh rebuild,
every article of the source is stored exactly once with its claims, nothing is doubled, the
interrupted runs show as such, and two processes never ran jobs at the same time.

A SIGKILLed leader freeing its lock (flock or advisory lock) for a standby is shown by
tests/e2e/test_scheduler.py::test_two_schedulers_one_leader_takeover_edit_and_request."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from api.app import create_app
from factstore.config import Settings
from factstore.domain import article_stream, catalog, runs
from factstore.ingest.registry import recent_runs
from factstore.ingest.scheduler import LEADER_LOCK_KEY, scheduler_status
from factstore.ingest.service import read_article
from factstore.ingest.sources import read_paths, stream_id_for
from factstore.projections import default_runner
from factstore.store.event_store import EventStore
from factstore.store.models import events_table as ev
from tests.conftest import BACKEND
from tests.e2e.test_scheduler import stop, wait_for
from tests.replay import snapshot
from tests.support.scheduler_processes import Launch, scheduler_processes

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "news-2016.jsonl.gz"
JOB = "reingest.news"
SOURCES = """
[[sources]]
id = "news"
kind = "jsonl"
path = "news.jsonl"
interval = "1s"
"""
HEARTBEAT_S = 0.3
POOL_SIZE = 360
SOURCE_SIZE = 300

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not there")


@pytest.fixture(scope="module")
def pool() -> list[dict[str, Any]]:
    """The first articles of the corpus: the source of every run is drawn from these."""
    records = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        for line in handle:
            records.append(json.loads(line))
            if len(records) == POOL_SIZE:
                break
    return records


def write_source(folder: Path, pool: list[dict[str, Any]], rng: random.Random) -> Path:
    """A random subset of the pool, some of it edited: every version has new, revised and
    gone articles, so every run after a change has work to do."""
    chosen = rng.sample(pool, SOURCE_SIZE)
    lines = []
    for record in chosen:
        if rng.random() < 0.1:
            extra = f"\n\nOfficials said {rng.randint(2, 90)} people were injured."
            record = {**record, "text": record["text"] + extra}
        lines.append(json.dumps(record))
    path = folder / "news.jsonl"
    partial = folder / "news.jsonl.tmp"
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)  # a run reads one version or the other, never half a file
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "sources.toml").write_text(SOURCES)
    return tmp_path


@pytest.fixture
def start(database_url: str, workdir: Path) -> Iterator[Launch]:
    with scheduler_processes(database_url, workdir, HEARTBEAT_S) as launch:
        yield launch


def started_runs(store: EventStore) -> list[tuple[str, dict[str, Any]]]:
    """(stream, RunStarted data) of every run, oldest first."""
    query = select(ev.c.stream_id, ev.c.data).where(ev.c.type == runs.RUN_STARTED)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(ev.c.position)).all()
    return [(row.stream_id, json.loads(row.data)) for row in rows]


def run_started_by(store: EventStore, pid: int, after: int = 0) -> str:
    """The stream of a run this process started (beyond the first `after` runs), or ''."""
    for stream, data in started_runs(store)[after:]:
        if f":{pid}:" in (data.get("instance") or ""):
            return stream
    return ""


def finished_runs_by(store: EventStore, pid: int) -> list[dict[str, Any]]:
    return [
        r
        for r in recent_runs(store, JOB, limit=1000)
        if f":{pid}:" in (r["instance"] or "") and r["finished_at"] is not None
    ]


def assert_store_matches(
    store: EventStore, database_url: str, source: Path, pool: list[dict[str, Any]]
) -> None:
    """The log verifies, projections equal a rebuild, every article of the source is stored
    once and whole, what left the source is withdrawn, no event is doubled."""
    verify = subprocess.run(
        [sys.executable, "-m", "factstore.cli", "verify"],
        env={**os.environ, "FACTSTORE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stderr

    runner = default_runner(store, Settings(database_url=database_url))
    runner.catch_up()
    tables = [t for p in runner.projections.values() for t in p.tables]
    followed = snapshot(store.engine, tables)
    for name in runner.projections:
        runner.rebuild(name)
    assert snapshot(store.engine, tables) == followed

    with store.engine.connect() as conn:
        total, distinct = conn.execute(
            select(func.count(), func.count(func.distinct(ev.c.event_id)))
        ).one()
    assert total == distinct, "an event id appears twice"

    def claims(data: list[dict[str, Any]]) -> list[str]:
        return sorted(
            json.dumps({k: v for k, v in d.items() if k != "claim_id"}, sort_keys=True)
            for d in data
        )

    in_source = list(read_paths([source]))
    assert len(in_source) == SOURCE_SIZE
    for article in in_source:
        stream_id = stream_id_for(article.article_id)
        events = store.read_stream(stream_id)
        assert [e.version for e in events] == list(range(1, len(events) + 1)), stream_id
        types = Counter(e.type for e in events)
        assert types[catalog.ARTICLE_INGESTED] == 1, (stream_id, types)
        # A claim is asserted again only after a revision retracted it, never twice in a row.
        active: set[str] = set()
        for event in events:
            if event.type == catalog.CLAIM_ASSERTED:
                assert event.data["claim_id"] not in active, f"{stream_id}: claim asserted twice"
                active.add(event.data["claim_id"])
            elif event.type == catalog.CLAIM_RETRACTED:
                active.discard(event.data["claim_id"])
        state = article_stream.fold(stream_id, events)
        reading = read_article(article)
        assert not state.withdrawn, stream_id
        assert state.content_hash == reading.content_hash, stream_id
        # Its claims are exactly those a first ingestion of this text asserts: all of them,
        # never half (an article's events are one atomic append).
        fresh = article_stream.plan(article_stream.ArticleState(stream_id), reading, {})
        expected = [e.data for e in fresh.events if e.type == catalog.CLAIM_ASSERTED]
        assert claims(list(state.active_claims.values())) == claims(expected), stream_id

    kept = {stream_id_for(a.article_id) for a in in_source}
    gone = {stream_id_for(a.article_id) for a in read_paths([source.parent / "pool.jsonl"])}
    for stream_id in gone - kept:
        events = store.read_stream(stream_id)
        if events:
            assert article_stream.fold(stream_id, events).withdrawn, stream_id


def kill_mid_run(
    store: EventStore, process: subprocess.Popen[str], rng: random.Random, within: float = 1.2
) -> None:
    """Kill -9 at a random moment within `within` seconds of a run starting."""
    wait_for(lambda: run_started_by(store, process.pid), what="a run to start")
    time.sleep(rng.uniform(0.0, within))
    process.kill()
    process.wait(timeout=30)


def check_kills(
    kills: int,
    store: EventStore,
    database_url: str,
    workdir: Path,
    pool: list[dict[str, Any]],
    start: Callable[..., subprocess.Popen[str]],
) -> None:
    seed = int(os.environ.get("FACTSTORE_FAULT_SEED", time.time_ns() % 1_000_000))
    print(f"seed {seed} (FACTSTORE_FAULT_SEED reproduces the kill moments)")
    rng = random.Random(seed)
    (workdir / "pool.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pool))
    for number in range(kills):
        write_source(workdir, pool, rng)
        # The first run ingests the whole source (the longest): killing it early lands inside
        # it on any machine speed; later kills may land anywhere, after the run too.
        kill_mid_run(store, start(), rng, within=0.15 if number == 0 else 1.2)
    source = write_source(workdir, pool, rng)
    final = start()
    wait_for(lambda: finished_runs_by(store, final.pid), timeout=180, what="a complete run")
    stop(final)

    assert_store_matches(store, database_url, source, pool)

    # Runs the kills cut short have a RunStarted and no RunFinished: they read "interrupted"
    # (a later run of the job started), in the API as in the run record.
    listed = recent_runs(store, JOB, limit=1000)
    print("runs, oldest first:", [(r["status"], r["duration_s"]) for r in reversed(listed)])
    assert len(listed) >= kills + 1
    assert "running" not in {r["status"] for r in listed}
    interrupted = [r for r in listed if r["status"] == "interrupted"]
    assert interrupted, f"no kill landed inside a run (seed {seed})"
    assert all(r["finished_at"] is None for r in interrupted)
    app = create_app(Settings(database_url=database_url))
    try:
        response = app.test_client().get(f"/v1/jobs/{JOB}/runs?limit=100")
        assert response.status_code == 200, response.get_data(as_text=True)
        shown = {r["run_id"]: r["status"] for r in response.get_json()["items"]}
        assert {shown[r["run_id"]] for r in interrupted if r["run_id"] in shown} == {"interrupted"}
    finally:
        app.extensions["factstore"].store.engine.dispose()


@pytest.mark.parametrize("kills", [5, pytest.param(25, marks=pytest.mark.slow)])
def test_scheduler_killed_mid_run_loses_and_doubles_nothing(
    kills: int,
    store: EventStore,
    database_url: str,
    workdir: Path,
    pool: list[dict[str, Any]],
    start: Callable[..., subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACTSTORE_SOURCES", str(workdir / "sources.toml"))  # the API's jobs
    check_kills(kills, store, database_url, workdir, pool, start)


# --- PostgreSQL: connections cut with pg_terminate_backend -------------------------------------

postgres_only = pytest.mark.skipif(BACKEND != "postgresql", reason="pg_terminate_backend")


def backends_of(store: EventStore, name: str) -> dict[int, bool]:
    """Server pids of this scheduler's connections -> whether it holds the leader lock."""
    query = text(
        "SELECT a.pid, EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid"
        " AND l.locktype = 'advisory' AND l.granted AND l.objid = :key)"
        " FROM pg_stat_activity a WHERE a.application_name = :name"
    )
    with store.engine.connect() as conn:
        return dict(conn.execute(query, {"name": name, "key": LEADER_LOCK_KEY}).tuples().all())


def terminate(store: EventStore, pids: set[int]) -> None:
    with store.engine.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def assert_never_overlapping(store: EventStore) -> list[dict[str, Any]]:
    """Every run finished before the next began (at most the last one is unfinished)."""
    documents = sorted(
        (runs.summarise_run(store.read_stream(stream)) for stream, _ in started_runs(store)),
        key=lambda d: d["position"],
    )
    for earlier, later in pairwise(documents):
        assert earlier["finished_at"] is not None, earlier
        assert later["started_at"] >= earlier["finished_at"], (earlier, later)
    return documents


def runs_since(store: EventStore, index: int) -> list[dict[str, Any]]:
    """The runs started after the first `index` runs, oldest first."""
    return [runs.summarise_run(store.read_stream(s)) for s, _ in started_runs(store)[index:]]


@postgres_only
def test_leader_whose_lock_connection_dies_stops_running_jobs(
    store: EventStore,
    workdir: Path,
    pool: list[dict[str, Any]],
    start: Callable[..., subprocess.Popen[str]],
) -> None:
    first = start("fs-sched-a")
    wait_for(lambda: run_started_by(store, first.pid), what="the first scheduler to lead")
    second = start("fs-sched-b")
    wait_for(
        lambda: (scheduler_status(store.engine, HEARTBEAT_S) or {}).get("standby") == 1,
        what="the second scheduler to stand by",
    )
    # The source appears (runs until now failed: no such file): the next run has 300 articles.
    known = len(started_runs(store))
    rng = random.Random(7)
    write_source(workdir, pool, rng)

    def running() -> str:
        for document in runs_since(store, known):
            if f":{first.pid}:" in document["instance"] and not document["finished_at"]:
                return runs.run_stream_id(document["run_id"])
        return ""

    run = wait_for(running, what="a long run")
    time.sleep(0.3)
    # Mid-run, the leader's lock connection dies: the server lets the lock go at once.
    lock = {pid for pid, holds in backends_of(store, "fs-sched-a").items() if holds}
    assert len(lock) == 1
    assert not runs.summarise_run(store.read_stream(run))["finished_at"], "run too short"
    terminate(store, lock)
    # The first may win the lock back before the second tries: cut it again until the second
    # leads (each cut lands in one of its runs: the job runs every second).
    for _cut in range(10):
        leader = wait_for(
            lambda: (
                {p: "a" for p, held in backends_of(store, "fs-sched-a").items() if held}
                | {p: "b" for p, held in backends_of(store, "fs-sched-b").items() if held}
            ),
            what="a leader after the cut",
        )
        if "b" in leader.values():
            break
        time.sleep(rng.uniform(0.0, 0.5))
        terminate(store, set(leader))
    else:
        raise AssertionError("the second scheduler never took over")

    # The cut-off leader stops its run; whoever leads next starts only once it has ended, and
    # the job's runs go on.
    cut_at = len(started_runs(store))
    wait_for(
        lambda: [
            r
            for r in runs_since(store, cut_at)
            if r["status"] == "ok" and f":{second.pid}:" in r["instance"]
        ],
        what="a complete run by the new leader",
    )
    documents = assert_never_overlapping(store)
    cut = next(d for d in documents if runs.run_stream_id(d["run_id"]) == run)
    assert cut["finished_at"] is not None, cut
    output = stop(first) + stop(second)
    assert "leader lock lost: stepping down" in output
    assert_never_overlapping(store)


@postgres_only
def test_working_connections_cut_mid_run_fail_the_run_cleanly(
    store: EventStore,
    database_url: str,
    workdir: Path,
    pool: list[dict[str, Any]],
    start: Callable[..., subprocess.Popen[str]],
) -> None:
    rng = random.Random(11)
    (workdir / "pool.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pool))
    source = write_source(workdir, pool, rng)
    scheduler = start("fs-sched-w")
    failed: list[dict[str, Any]] = []
    # A run can end before the cut (CI once missed three times at 0.3 s): cut sooner each time.
    for delay in (0.3, 0.1, 0.05, 0.2, 0.02, 0.15):
        known = len(started_runs(store))
        run = wait_for(lambda k=known: run_started_by(store, scheduler.pid, k), what="a run")
        time.sleep(delay)
        working = {pid for pid, holds in backends_of(store, "fs-sched-w").items() if not holds}
        terminate(store, working)
        done = wait_for(
            lambda r=run: runs.summarise_run(store.read_stream(r))["finished_at"] and r,
            what="the cut run to record its end",
        )
        record = runs.summarise_run(store.read_stream(done))
        if record["status"] != "ok":
            failed.append(record)
            break
        source = write_source(workdir, pool, rng)  # the cut missed the run: more work, again
    assert failed, "no cut landed inside a run"
    errors = [s["error"] for s in failed[0]["sources"] if s["status"] == "failed"]
    print("the cut run recorded:", failed[0]["status"], errors)
    assert errors and all("OperationalError" in e for e in errors), failed[0]
    # The next run succeeds with the same scheduler process and leaves the store whole.
    known = len(started_runs(store))
    wait_for(
        lambda: (
            any(r["status"] == "ok" for r in finished_runs_by(store, scheduler.pid)[:1])
            and len(started_runs(store)) > known
        ),
        what="a successful run after the cut",
    )
    assert scheduler.poll() is None
    stop(scheduler)
    assert_never_overlapping(store)
    assert_store_matches(store, database_url, source, pool)
