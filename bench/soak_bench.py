"""Soak run: mixed traffic against the real server for a long time; nothing may be lost, doubled
or fail, and no process may grow.

    .venv/bin/python bench/soak_bench.py --minutes 30                  # a scratch PostgreSQL db
    .venv/bin/python bench/soak_bench.py --minutes 2 --database-url URL  # an empty store (CI)

- **Store.** A fresh `factstore_soak_*` database on --postgres-url (dropped at the end), or the
  empty database at --database-url (SQLite or PostgreSQL), migrated, the seed articles ingested.
- **Processes.** `factstore serve` (gunicorn, --workers, loopback, a write token),
  `factstore project --follow` (the projection follower, tailing the log beside the server's
  inline updates) and `factstore scheduler`, re-reading a directory source every
  --scheduler-interval seconds while the bench edits a figure in one of its files now and then
  (so its runs append revisions while the API takes writes).
- **Traffic**, paced (open-loop schedule; a request that falls behind is sent late, not dropped):
  --write-rate POST /v1/articles per second, a third of them revisions of an article posted
  earlier (a changed figure: ArticleRevised, a retraction, a new claim), the rest new articles
  (corpus texts from ../shared/corpus if present, else the seeds); --read-rate GETs per second
  spread over the topic list, a topic, its history, the event log and an article.
- **Checks** at the end: no 5xx and no socket error; every event accounted for — the log grew
  by exactly the sum of `events_appended` the server reported (so nothing was lost or doubled)
  plus what the scheduler's runs say they appended (and the run streams themselves), and each
  article's stream version is the sum of its own appends; no event id twice; every run finished;
  `verify` passes; the follower reached lag 0; the projections equal a fresh rebuild.
  RSS of each process (server master, follower, scheduler; the workers as gunicorn replaces
  them: their range and the largest any reached) at the start (after a
  warm-up) and at the end, with a sample every --sample-seconds. Exit 1 if a check fails.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.replay
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_load_bench import HOST, Server
from scratch import create_database, drop_databases

from factstore.domain.runs import run_stream_id
from factstore.ingest.registry import recent_runs
from factstore.ingest.service import ingest
from factstore.ingest.sources import read_paths
from factstore.projections import default_runner
from factstore.projections.models import topics_table
from factstore.recycle import RESTARTING
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.schema import upgrade
from factstore.store.verification import verify_log
from tests.replay import snapshot

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "news-2016.jsonl.gz"
SEEDS = ROOT / "seeds"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def texts(limit: int) -> list[dict[str, Any]]:
    """Article bodies to post: the corpus if it is there, else the seeds."""
    found: list[dict[str, Any]] = []
    if CORPUS.exists():
        with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                found.append({"text": record["text"], "outlet": record.get("outlet")})
                if len(found) >= limit:
                    break
    else:
        found = [{"text": a.text, "outlet": a.outlet} for a in read_paths([SEEDS])]
    return found


class SchedulerSource:
    """A folder of articles the scheduler re-reads, and a sources file naming it; every few
    intervals one article gets a new figure, so the next run appends a revision."""

    ID = "soak"

    def __init__(self, folder: Path, interval_s: int) -> None:
        self.articles = folder / "scheduled"
        self.articles.mkdir()
        for number, record in enumerate(texts(55)[-5:]):
            (self.articles / f"scheduled-{number}.txt").write_text(record["text"])
        self.config = str(folder / "sources.toml")
        Path(self.config).write_text(
            f'[[sources]]\nid = "{self.ID}"\nkind = "directory"\n'
            f'path = "{self.articles}"\ninterval = "{interval_s}s"\n'
        )
        self.every_s = 3 * interval_s
        self.next_edit = time.monotonic() + self.every_s
        self.edits = 0

    def edit_now_and_then(self, now: float) -> None:
        if now < self.next_edit:
            return
        self.edits += 1
        path = self.articles / f"scheduled-{self.edits % 5}.txt"
        path.write_text(
            path.read_text().split("\n\nUpdate:")[0]
            + f"\n\nUpdate: at least {10 + self.edits} people were killed in Aleppo on Monday,"
            " the Syrian Observatory for Human Rights said."
        )
        self.next_edit = now + self.every_s


def worker_rss(samples: Sequence[tuple[float, dict[int, int | None]]]) -> str:
    """The server workers' RSS over the run, in MiB: at the first and the last sample, the
    largest any worker reached, and how many workers served (gunicorn replaces them)."""

    def span(kib: Sequence[int | None]) -> str:
        mib = [v / 1024 for v in kib if v]
        return f"{min(mib):.1f}-{max(mib):.1f}" if mib else "-"

    seen = {pid for _, rss in samples for pid in rss}
    peak = max((v or 0 for _, rss in samples for v in rss.values()), default=0)
    return (
        f"{span(list(samples[0][1].values()))} -> {span(list(samples[-1][1].values()))}; "
        f"largest {peak / 1024:.1f}; {len(seen)} workers served"
    )


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Tally:
    """What the clients saw; shared by their threads under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)
    socket_errors: int = 0
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    appended: Counter[str] = field(default_factory=Counter)  # stream -> events the server reported
    posted: list[str] = field(default_factory=list)  # source ids, for revisions

    def record(self, kind: str, status: int | None, elapsed_ms: float) -> None:
        with self.lock:
            if status is None:
                self.socket_errors += 1
            else:
                self.statuses[f"{kind} {status}"] += 1
            self.latencies_ms.setdefault(kind, []).append(elapsed_ms)

    def server_errors(self) -> int:
        return sum(n for key, n in self.statuses.items() if key.split()[1].startswith("5"))


def paced(rate: float, clients: int, stop: threading.Event, send: Any) -> list[threading.Thread]:
    """`clients` threads that call send(conn, number) at `rate` per second overall."""
    start = time.monotonic()
    tickets = iter(range(10**12))
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, PORT[0], timeout=60)
        sent = 0
        while not stop.is_set():
            with lock:
                number = next(tickets)
            due = start + number / rate
            if due > time.monotonic() and stop.wait(due - time.monotonic()):
                break
            conn = send(conn, number)
            sent += 1
            if sent % RECONNECT_EVERY == 0:
                # A keep-alive connection stays with the gunicorn worker that accepted it, and
                # one worker may accept every connection opened at once at the start (a run
                # saw three of four workers idle). Clients that reconnect now and then, as
                # pooled HTTP clients do, spread over the workers that are free to accept.
                conn.close()
                conn = http.client.HTTPConnection(HOST, PORT[0], timeout=60)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    return threads


PORT = [0]
RECONNECT_EVERY = 50  # requests per keep-alive connection


def request(
    tally: Tally,
    conn: http.client.HTTPConnection,
    kind: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPConnection, int | None, bytes]:
    began = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        payload = response.read()
        status: int | None = response.status
    except OSError:
        conn.close()
        conn = http.client.HTTPConnection(HOST, PORT[0], timeout=60)
        status, payload = None, b""
    tally.record(kind, status, (time.perf_counter() - began) * 1000)
    return conn, status, payload


class Traffic:
    def __init__(self, server: Server, seed: int) -> None:
        self.server = server
        self.tally = Tally()
        self.bodies = texts(1000)
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.topics: list[str] = []
        self.head = 1
        self.run_tag = uuid.uuid4().hex[:8]

    def write(self, conn: http.client.HTTPConnection, number: int) -> http.client.HTTPConnection:
        with self.rng_lock:
            revise = number % 3 == 2 and len(self.tally.posted) > 10
            source_id = (
                self.rng.choice(self.tally.posted) if revise else f"soak-{self.run_tag}-{number}"
            )
            base = self.bodies[hash(source_id) % len(self.bodies)]
            figure = self.rng.randint(10, 100_000)
        text = base["text"]
        if revise:  # a changed figure: ArticleRevised, the old claim retracted, a new one
            text += f"\n\nAt least {figure} people were killed in Mosul, the UN said."
        document = {"source_id": source_id, "text": text, "outlet": base["outlet"]}
        headers = {
            "Authorization": f"Bearer {self.server.token}",
            "Content-Type": "application/json",
        }
        conn, status, payload = request(
            self.tally,
            conn,
            "write",
            "POST",
            "/v1/articles",
            json.dumps(document).encode(),
            headers,
        )
        if status in (200, 201):
            result = json.loads(payload)
            with self.tally.lock:
                self.tally.appended[result["stream_id"]] += result["events_appended"]
                if not revise:
                    self.tally.posted.append(source_id)
                self.head = max(self.head, result["head_position"])
        return conn

    def read(self, conn: http.client.HTTPConnection, number: int) -> http.client.HTTPConnection:
        with self.rng_lock:
            choice = number % 5
            topic = self.rng.choice(self.topics) if self.topics else "none"
            after = self.rng.randint(0, max(0, self.head - 50))
            posted = self.rng.choice(self.tally.posted) if self.tally.posted else "none"
        path = [
            "/v1/topics?limit=20",
            f"/v1/topics/{quote(topic)}",
            f"/v1/topics/{quote(topic)}/history",
            f"/v1/events?after={after}&limit=50",
            f"/v1/articles/{quote(posted)}",
        ][choice]
        # (a 404 is a topic or article not there yet: counted, not an error of the server)
        conn, _, _ = request(self.tally, conn, "read", "GET", path)
        return conn


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--write-rate", type=float, default=20.0)
    parser.add_argument("--read-rate", type=float, default=500.0)
    # Enough clients that the rates hold while a POST takes a few hundred ms under load (4
    # writers capped the rate at 4 / latency: ~16/s at p50 229 ms).
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--readers", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)  # serve's default on 2 cores
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument("--warmup-seconds", type=float, default=20.0)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--database-url", help="an empty database to use instead of a scratch one")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scheduler-interval", type=int, default=10)
    parser.add_argument(
        "--process-max-rss",
        type=int,
        metavar="MIB",
        help="FACTSTORE_PROCESS_MAX_RSS_MIB for the follower and the scheduler (their restarts "
        "are counted)",
    )
    args = parser.parse_args(argv)

    scratch_name = None
    if args.database_url:
        url = args.database_url
    else:
        scratch_name = f"factstore_soak_{os.getpid()}"
        url = create_database(make_url(args.postgres_url), scratch_name).render_as_string(
            hide_password=False
        )
    folder = Path(tempfile.mkdtemp(prefix="factstore-soak-"))
    engine = create_store_engine(url)
    follower: subprocess.Popen[bytes] | None = None
    scheduler: subprocess.Popen[bytes] | None = None
    server: Server | None = None
    try:
        upgrade(engine)
        store = EventStore(engine)
        if store.head_position():
            raise SystemExit("soak_bench: the database is not empty")
        list(ingest(store, read_paths([SEEDS]), runner=default_runner(store)))
        initial_head = store.head_position()
        server = Server(url, args.workers, args.threads, folder / "server.log")
        PORT[0] = server.port
        ceiling = {}
        if args.process_max_rss is not None:
            ceiling["FACTSTORE_PROCESS_MAX_RSS_MIB"] = str(args.process_max_rss)
        follower_log = (folder / "follower.log").open("wb")
        follower = subprocess.Popen(
            [str(Path(sys.executable).with_name("factstore")), "project", "--follow"],
            env={**os.environ, "FACTSTORE_DATABASE_URL": url, **ceiling},
            stdout=follower_log,
            stderr=subprocess.STDOUT,
        )
        source = SchedulerSource(folder, args.scheduler_interval)
        scheduler_log = (folder / "scheduler.log").open("wb")
        scheduler = subprocess.Popen(
            [str(Path(sys.executable).with_name("factstore")), "scheduler", "--heartbeat", "1"],
            env={
                **os.environ,
                "FACTSTORE_DATABASE_URL": url,
                "FACTSTORE_SOURCES": source.config,
                **ceiling,
            },
            stdout=scheduler_log,
            stderr=subprocess.STDOUT,
        )
        traffic = Traffic(server, args.seed)
        with engine.connect() as conn:
            traffic.topics = list(conn.execute(select(topics_table.c.topic)).scalars())

        stop = threading.Event()
        threads = paced(args.write_rate, args.writers, stop, traffic.write)
        threads += paced(args.read_rate, args.readers, stop, traffic.read)
        started = time.monotonic()
        duration = args.minutes * 60
        pids = {
            "server master": server.process.pid,
            "follower": follower.pid,
            "scheduler": scheduler.pid,
            "soak clients": os.getpid(),
        }
        samples: list[tuple[float, dict[str, int | None]]] = []
        # gunicorn replaces a worker after FACTSTORE_WORKER_MAX_REQUESTS requests: each sample
        # reads the workers there are then, and every worker seen is remembered.
        worker_samples: list[tuple[float, dict[int, int | None]]] = []

        def sample(at: float) -> None:
            samples.append((at, {name: rss_kib(p) for name, p in pids.items()}))
            worker_samples.append((at, {p: rss_kib(p) for p in server.pids()[1:]}))

        next_sample = started + min(args.warmup_seconds, duration / 4)
        print(
            f"soak: {args.minutes:g} min on {make_url(url).get_backend_name()}; logs in {folder}",
            file=sys.stderr,
        )
        while (now := time.monotonic()) < started + duration:
            if now >= next_sample:
                sample(now - started)
                with engine.connect() as conn:
                    traffic.topics = list(conn.execute(select(topics_table.c.topic)).scalars())
                t = traffic.tally
                writes = sum(v for k, v in t.statuses.items() if k.startswith("write"))
                reads = sum(v for k, v in t.statuses.items() if k.startswith("read"))
                print(
                    f"  {now - started:6.0f}s writes {writes} reads {reads} "
                    f"5xx {t.server_errors()} socket {t.socket_errors} rss MiB "
                    + " ".join(f"{(v or 0) // 1024}" for v in samples[-1][1].values())
                    + " workers "
                    + " ".join(f"{(v or 0) // 1024}" for v in worker_samples[-1][1].values()),
                    file=sys.stderr,
                )
                next_sample = now + args.sample_seconds
            source.edit_now_and_then(now)
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        elapsed = time.monotonic() - started
        sample(elapsed)

        # The follower must reach lag 0, then stop it (SIGTERM: it finishes its batch).
        runner = default_runner(store)
        deadline = time.monotonic() + 120
        while any(lag.lag for lag in runner.lags()) and time.monotonic() < deadline:
            time.sleep(0.5)
        lags = {lag.name: lag.lag for lag in runner.lags()}
        follower.send_signal(signal.SIGTERM)
        follower_exit = follower.wait(timeout=60)
        scheduler.send_signal(signal.SIGTERM)  # a running run finishes first
        scheduler_exit = scheduler.wait(timeout=120)
        runs = recent_runs(store, f"reingest.{SchedulerSource.ID}", limit=100_000)
        run_events = sum(store.stream_versions({run_stream_id(r["run_id"]) for r in runs}).values())
        scheduled = sum(r["totals"].get("events_appended", 0) for r in runs)
        server.stop()
        server = None

        tally = traffic.tally
        head = store.head_position()
        expected_head = initial_head + sum(tally.appended.values()) + scheduled + run_events
        versions = store.stream_versions(set(tally.appended))
        wrong_streams = [s for s, n in tally.appended.items() if versions.get(s, 0) != n]
        report = verify_log(store)
        before = snapshot(engine, [t for p in runner.projections.values() for t in p.tables])
        for name in runner.projections:
            runner.rebuild(name)
        after = snapshot(engine, [t for p in runner.projections.values() for t in p.tables])

        checks = {
            "no 5xx": tally.server_errors() == 0,
            "no socket errors": tally.socket_errors == 0,
            "log grew by exactly the events reported (none lost, none doubled)": head
            == expected_head,
            "each stream's version = its appends": not wrong_streams,
            "verify": report.ok,
            "follower reached lag 0": not any(lags.values()),
            "follower stopped cleanly": follower_exit == 0,
            "scheduler ran, every run finished ok": bool(runs)
            and all(r["status"] == "ok" for r in runs),
            "scheduler stopped cleanly": scheduler_exit == 0,
            "projections = fresh rebuild": before == after,
        }
        writes = {k: v for k, v in tally.statuses.items() if k.startswith("write")}
        reads = {k: v for k, v in tally.statuses.items() if k.startswith("read")}
        print(f"\nsoak: {elapsed / 60:.1f} min, backend {make_url(url).get_backend_name()}")
        for kind, counts in (("write", writes), ("read", reads)):
            total = sum(counts.values())
            lat = sorted(tally.latencies_ms.get(kind, [0.0]))
            print(
                f"{kind}s: {total} ({total / elapsed:.1f}/s) {dict(sorted(counts.items()))}; "
                f"p50 {statistics.median(lat):.1f} ms, p99 {lat[int(0.99 * (len(lat) - 1))]:.1f}"
                f" ms, max {lat[-1]:.0f} ms"
            )
        print(
            f"events: {initial_head} seeded + {sum(tally.appended.values())} reported by "
            f"{len(tally.appended)} streams + {scheduled} by {len(runs)} scheduler runs "
            f"({source.edits} file edits) and their {run_events} run events = {expected_head}; "
            f"log head {head}; "
            f"{report.events_checked} verified"
        )
        print("RSS MiB (start after warm-up -> end):")
        first, last = samples[0][1], samples[-1][1]
        for name in pids:
            start_kib, end_kib = first.get(name), last.get(name)
            print(f"  {name}: {(start_kib or 0) / 1024:.1f} -> {(end_kib or 0) / 1024:.1f}")
        print(f"  server workers: {worker_rss(worker_samples)}")
        for name in ("follower", "scheduler"):
            restarts = (folder / f"{name}.log").read_text(errors="replace").count(RESTARTING)
            print(f"  {name} restarted itself {restarts} times (past its memory ceiling)")
        for name, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
        return 0 if all(checks.values()) else 1
    finally:
        if server is not None:
            server.stop()
        for process in (follower, scheduler):
            if process is not None and process.poll() is None:
                process.kill()
        engine.dispose()
        if scratch_name:
            drop_databases(make_url(args.postgres_url), [scratch_name])


if __name__ == "__main__":
    sys.exit(main())
