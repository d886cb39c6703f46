"""API load benchmark: the real server (gunicorn, loopback) over a ≥ 1,000,000-event store.

    .venv/bin/python bench/api_load_bench.py                       # build 1M on both, measure
    .venv/bin/python bench/api_load_bench.py --build-only --keep   # only build (prints the URLs)
    .venv/bin/python bench/api_load_bench.py --backend sqlite --db-url sqlite:////tmp/x/log.db

1. **Store.** A fresh database per backend (a temp-dir SQLite file, or a `factstore_apiload_*`
   database on --postgres-url) is filled by the projection benchmark's generator
   (bench/projection_log.py: real corpus articles replayed as editions, revisions, ranks,
   retractions, withdrawals) up to --events, then every projection is rebuilt
   (`ProjectionRunner.rebuild`). With --db-url an existing store is reused (projections caught
   up). Removed at the end unless --keep or --db-url.
2. **Server.** `factstore serve --host 127.0.0.1 --port <free> --workers N --threads T`
   (gunicorn, gthread, no access log), its output in a log file; one write token configured
   through FACTSTORE_API_TOKENS (only its SHA-256). FACTSTORE_API_BODY_CACHE_MB, when set, is
   passed on (0: measure without the per-worker cache of encoded figures).
3. **Load** from separate processes on the same machine (they share its cores with the server):
   `wrk` (keep-alive connections; a Lua script picks a random topic / position per request) for
   the reads, and a paced Python writer (http.client, keep-alive) for the writes. Phases:
     topic      GET /v1/topics/{topic}          topic uniform over every topic
     topic-light the same over topics with <= 1,000 claims (diagnostic: without the huge ones)
     history    GET /v1/topics/{topic}/history  topic uniform over every topic
     events     GET /v1/events?after=P          P uniform over [0, head - 100]
     topic+w    topic reads while the writer POSTs --write-rate articles/s (after
                --write-warmup seconds of the same writes: a fresh worker loads a big topic
                on its first write to it, which a running server has long done)
     post       POST /v1/articles alone, as fast as --writers keep-alive clients can
   POSTed articles are real corpus texts with a fresh `source_id` each (new articles: extraction,
   append and projection catch-up on every request).
Per phase: requests/s, p50, p99 (ms), errors (non-2xx or socket errors), load average.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from projection_log import LogGenerator, SourceArticle, extract_corpus
from scratch import conninfo, create_database, drop_databases

from factstore.projections import default_runner
from factstore.projections.models import topics_table
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.schema import upgrade
from factstore.tokens import hash_token, new_token

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "factstore_apiload_"
HOST = "127.0.0.1"  # the only host this benchmark ever sends requests to


def status(text: str) -> None:
    sys.stderr.write(f"\r  {text:<78}")
    sys.stderr.flush()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


# --- the store -----------------------------------------------------------------------------------


class Databases:
    def __init__(self, postgres_url: str, keep: bool) -> None:
        self.keep = keep
        self.admin = make_url(postgres_url).set(drivername="postgresql+psycopg")
        self.tmp: Path | None = None
        self.created: list[str] = []

    def fresh(self, backend: str) -> URL:
        if backend == "sqlite":
            self.tmp = Path(tempfile.mkdtemp(prefix="factstore-apiload-"))
            return make_url(f"sqlite:///{self.tmp / 'log.db'}")
        dbname = f"{DB_PREFIX}{int(time.time())}"
        self.created.append(dbname)
        return create_database(self.admin, dbname)

    def cleanup(self) -> None:
        if self.keep:
            if self.tmp or self.created:
                print(f"kept: {self.tmp or ''} {' '.join(self.created)}", file=sys.stderr)
            return
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self.created:
            drop_databases(self.admin, self.created)


def build_store(url: URL, articles: Sequence[SourceArticle], events: int, seed: int) -> None:
    """Fill a fresh database with the generated log, then rebuild every projection."""
    engine = create_store_engine(url)
    try:
        upgrade(engine)
        store = EventStore(engine)
        batches = LogGenerator(articles, seed=seed).batches(500)
        written, last, start = 0, 0.0, time.perf_counter()
        while written < events:
            written += sum(len(r.events) for r in store.append_batch(next(batches)))
            if time.perf_counter() - last > 1.0:
                last = time.perf_counter()
                status(f"appending: {written:,}/{events:,} events")
        status(f"appended {written:,} events in {time.perf_counter() - start:.0f} s")
        sys.stderr.write("\n")
        runner = default_runner(store)
        for name in runner.projections:
            status(f"rebuilding {name}…")
            start = time.perf_counter()
            runner.rebuild(name)
            status(f"rebuilt {name} in {time.perf_counter() - start:.0f} s")
            sys.stderr.write("\n")
    finally:
        engine.dispose()


def catch_up(url: str | URL) -> None:
    engine = create_store_engine(url)
    try:
        status("catching up projections…")
        applied = default_runner(EventStore(engine)).catch_up()
        status(f"projections caught up ({applied:,} events applied)")
        sys.stderr.write("\n")
    finally:
        engine.dispose()


PHASES = ("topic", "topic-light", "history", "events", "topic+w", "post")

# Diagnostic phase: topic reads over the topics with at most this many claims (all but a few).
LIGHT_TOPIC_CLAIMS = 1000


@dataclass
class StoreFacts:
    head: int
    topics: list[str]
    light_topics: list[str]  # at most LIGHT_TOPIC_CLAIMS claims


def store_facts(url: str | URL) -> StoreFacts:
    engine = create_store_engine(url)
    try:
        t = topics_table.c
        with engine.connect() as conn:
            rows = sorted(conn.execute(select(t.topic, t.claims)).tuples())
            count = conn.execute(select(func.count()).select_from(topics_table)).scalar()
        assert count == len(rows)
        topics = [topic for topic, _ in rows]
        light = [topic for topic, claims in rows if claims <= LIGHT_TOPIC_CLAIMS]
        return StoreFacts(EventStore(engine).head_position(), topics, light)
    finally:
        engine.dispose()


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """`factstore serve` on a free loopback port; its output goes to a log file."""

    def __init__(self, url: str, workers: int, threads: int, log_path: Path) -> None:
        self.port = free_port()
        self.token = new_token()
        self.log_path = log_path
        env = {
            **os.environ,
            "FACTSTORE_DATABASE_URL": url,
            "FACTSTORE_API_TOKENS": f"apiload:{hash_token(self.token)}",
        }
        self.log = log_path.open("wb")
        command = [str(Path(sys.executable).with_name("factstore")), "--database-url", url]
        command += ["serve", "--host", HOST, "--port", str(self.port), "--workers", str(workers)]
        command += ["--threads", str(threads)]
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/v1/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        """CPU used so far by the master and every worker it ever had: the live ones' own, the
        replaced ones' in the master's count of its reaped children (gunicorn replaces a
        worker after FACTSTORE_WORKER_MAX_REQUESTS, which a 20-second phase can reach)."""
        master, *workers = self.pids()
        return cpu_seconds([master], reaped_children=True) + cpu_seconds(workers)

    def pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        master = self.process.pid
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:
                    children.append(int(entry.name))
        return [master, *children]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def cpu_seconds(pids: Sequence[int], reaped_children: bool = False) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if reaped_children:
            total += (int(fields[13]) + int(fields[14])) / ticks  # cutime + cstime
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# --- load ----------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("FS_PATHS")) do paths[#paths + 1] = line end
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter * 7919)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed)
  non2xx = 0
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, bad, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class PhaseResult:
    phase: str
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    load: str = ""
    extra: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    port: int, paths: Sequence[str], seconds: float, connections: int, threads: int, work: Path
) -> tuple[dict[str, Any], float]:
    """Drive GETs with wrk; (its summary, the CPU seconds wrk used)."""
    paths_file = work / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = work / "random_paths.lua"
    script.write_text(WRK_SCRIPT)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s"]
    command += ["--timeout", "10s", "-s", str(script), f"http://{HOST}:{port}/"]
    with (work / "wrk.out").open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "FS_PATHS": str(paths_file)},
        )
        _, code, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(code)
    text = (work / "wrk.out").read_text()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {text}")
    summary = json.loads(text.strip().splitlines()[-1])
    return summary, usage.ru_utime + usage.ru_stime


@dataclass
class Writer:
    """POSTs corpus articles with a fresh source_id each, from keep-alive clients (threads)."""

    port: int
    token: str
    articles: Sequence[SourceArticle]
    tag: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self, number: int) -> bytes:
        article = self.articles[number % len(self.articles)]
        document = {
            "source_id": f"apiload-{self.tag}-{number}",
            "text": article.text,
            "title": article.title,
            "outlet": article.outlet,
            "published_at": article.published.isoformat(),
        }
        return json.dumps(document).encode("utf-8")

    def run(self, clients: int, seconds: float, rate: float | None) -> float:
        """Paced at `rate` requests/s overall (None: as fast as the clients go); the wall time."""
        stop_at = time.monotonic() + seconds
        start = time.monotonic()
        tickets = iter(range(10**9))

        def client() -> None:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            headers = {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            }
            while True:
                with self._lock:
                    number = next(tickets)
                due = start + number / rate if rate else time.monotonic()
                if due >= stop_at:
                    break
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
                body = self.body(number)
                began = time.perf_counter()
                try:
                    conn.request("POST", "/v1/articles", body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = 200 <= response.status < 300
                except OSError:
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                    ok = False
                elapsed = (time.perf_counter() - began) * 1000
                with self._lock:
                    self.sent += 1
                    self.latencies_ms.append(elapsed)
                    self.errors += 0 if ok else 1
            conn.close()

        workers = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return time.monotonic() - start


# --- phases --------------------------------------------------------------------------------------


class Meter:
    """CPU used by the machine, the server and the load generators over one phase."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.busy, self.total = machine_busy()
        self.server_cpu = server.cpu_seconds()
        self.own_cpu = time.process_time()
        self.wall = time.monotonic()

    def describe(self, wrk_cpu: float) -> str:
        busy, total = machine_busy()
        wall = time.monotonic() - self.wall
        server = (self.server.cpu_seconds() - self.server_cpu) / wall
        writer = (time.process_time() - self.own_cpu) / wall
        load1 = os.getloadavg()[0]
        used = 100 * (busy - self.busy) / max(1, total - self.total)
        text = f"cpu {used:.0f}%: server {server:.2f}, wrk {wrk_cpu / wall:.2f}"
        if writer >= 0.01:
            text += f", writer {writer:.2f}"
        return text + f" cores; load1 {load1:.1f}"


def read_phase(
    name: str,
    label: str,
    server: Server,
    paths: Sequence[str],
    args: argparse.Namespace,
    work: Path,
) -> PhaseResult:
    status(f"{name}: {args.seconds:.0f} s of {label}")
    meter = Meter(server)
    summary, wrk_cpu = run_wrk(
        server.port, paths, args.seconds, args.connections, args.wrk_threads, work
    )
    seconds = summary["duration_us"] / 1e6
    return PhaseResult(
        name,
        label,
        summary["requests"],
        seconds,
        summary["p50_us"] / 1000,
        summary["p99_us"] / 1000,
        summary["max_us"] / 1000,
        summary["non2xx"] + summary["socket_errors"],
        meter.describe(wrk_cpu),
    )


def write_result(name: str, label: str, writer: Writer, seconds: float, load: str) -> PhaseResult:
    latencies = writer.latencies_ms
    return PhaseResult(
        name,
        label,
        writer.sent,
        seconds,
        statistics.median(latencies) if latencies else float("nan"),
        percentile(latencies, 99),
        max(latencies, default=float("nan")),
        writer.errors,
        load,
    )


def run_phases(
    backend: str,
    url: str,
    facts: StoreFacts,
    articles: Sequence[SourceArticle],
    args: argparse.Namespace,
    work: Path,
) -> list[PhaseResult]:
    rng = random.Random(args.seed)
    topic_paths = [f"/v1/topics/{quote(t, safe='')}" for t in facts.topics]
    history_paths = [f"{p}/history" for p in topic_paths]
    light_paths = [f"/v1/topics/{quote(t, safe='')}" for t in facts.light_topics]
    event_paths = [
        f"/v1/events?after={rng.randint(0, max(0, facts.head - 100))}" for _ in range(20_000)
    ]
    postable = [a for a in articles if a.text.strip()]
    rng.shuffle(postable)
    tag = f"{backend}-{int(time.time())}"
    server = Server(url, args.workers, args.threads, work / f"server-{backend}.log")
    results: list[PhaseResult] = []
    try:
        status("warm-up: 5 s of topic reads")
        run_wrk(server.port, topic_paths, 5, args.connections, args.wrk_threads, work)
        reads = [
            ("topic", "GET /v1/topics/{topic}", topic_paths),
            (
                "topic-light",
                f"GET /v1/topics/{{topic}}, topics ≤ {LIGHT_TOPIC_CLAIMS:,} claims",
                light_paths,
            ),
            ("history", "GET /v1/topics/{topic}/history", history_paths),
            ("events", "GET /v1/events?after=P", event_paths),
        ]
        for name, label, paths in reads:
            if name in args.phases:
                results.append(read_phase(name, label, server, paths, args, work))
        if "topic+w" in args.phases:
            if args.write_warmup:
                # A running server's workers have applied writes to the big topics before (and
                # keep them warm); a fresh one loads each on its first write (~1 s of CPU).
                status(f"warm-up: {args.write_warmup:g} s of {args.write_rate:g} POST/s")
                warmup = Writer(server.port, server.token, postable, f"{tag}-warm-up")
                warmup.run(args.writers, args.write_warmup, args.write_rate)
            status(f"topic+w: topic reads while writing {args.write_rate:g} articles/s")
            writer = Writer(server.port, server.token, postable, f"{tag}-mixed")
            walls: list[float] = []
            meter = Meter(server)
            thread = threading.Thread(
                target=lambda: walls.append(
                    writer.run(args.writers, args.seconds, args.write_rate)
                ),
                daemon=True,
            )
            thread.start()
            summary, wrk_cpu = run_wrk(
                server.port, topic_paths, args.seconds, args.connections, args.wrk_threads, work
            )
            thread.join()
            load = meter.describe(wrk_cpu)
            seconds = summary["duration_us"] / 1e6
            results.append(
                PhaseResult(
                    "topic+w",
                    f"GET /v1/topics/{{topic}} + {args.write_rate:g} POST/s",
                    summary["requests"],
                    seconds,
                    summary["p50_us"] / 1000,
                    summary["p99_us"] / 1000,
                    summary["max_us"] / 1000,
                    summary["non2xx"] + summary["socket_errors"],
                    load,
                )
            )
            results.append(
                write_result("topic+w", "  the writer: POST /v1/articles", writer, walls[0], "")
            )

        if "post" in args.phases:
            status(f"post: POST /v1/articles from {args.writers} clients")
            writer = Writer(server.port, server.token, postable, f"{tag}-post")
            meter = Meter(server)
            wall = writer.run(args.writers, args.seconds, None)
            results.append(
                write_result("post", "POST /v1/articles", writer, wall, meter.describe(0.0))
            )
        status(f"{backend}: done")
        sys.stderr.write("\n")
    finally:
        server.stop()
    for result in results:
        result.phase = f"{backend} {result.phase}"
    return results


# --- report --------------------------------------------------------------------------------------


def machine_info(args: argparse.Namespace) -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    text = (
        f"machine: {os.cpu_count()} × {cpu}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"psycopg {psycopg.__version__}, SQLite {sqlite3.sqlite_version}, {wrk.strip()}"
    )
    if args.backend in ("postgresql", "both"):
        with psycopg.connect(conninfo(make_url(args.postgres_url))) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            text += f", PostgreSQL {row[0] if row else '?'}"
    return text


def report(
    results: Sequence[PhaseResult], facts: dict[str, StoreFacts], args: argparse.Namespace
) -> str:
    out = [machine_info(args)]
    out.append(
        f"server: factstore serve --workers {args.workers} --threads {args.threads} "
        f"(gunicorn gthread, no access log; body cache "
        f"{os.environ.get('FACTSTORE_API_BODY_CACHE_MB', 'default')} MB); "
        f"reads: wrk -t {args.wrk_threads} -c {args.connections} -d {args.seconds:.0f}s "
        f"(keep-alive); writes: {args.writers} keep-alive http.client threads"
    )
    for backend, fact in facts.items():
        out.append(f"{backend}: {fact.head:,} events, {len(fact.topics):,} topics")
    out.append("")
    header = "| phase | requests | requests/s | p50 ms | p99 ms | max ms | errors | machine |"
    out += [header, "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        out.append(
            f"| {r.phase}: {r.label} | {r.requests:,} | {r.rate:,.0f} | {r.p50_ms:.1f} | "
            f"{r.p99_ms:.1f} | {r.max_ms:.0f} | {r.errors:,} | {r.load} |"
        )
    out.append("")
    out.append("targets (topic reads ≥ 1,500 requests/s with p99 < 20 ms, alone and with writes):")
    for r in results:
        name = r.phase.split(" ", 1)[1]
        if name in ("topic", "topic-light", "topic+w") and r.label.startswith("GET"):
            met = r.rate >= 1500 and r.p99_ms < 20 and r.errors == 0
            out.append(
                f"  {r.phase}: {r.rate:,.0f}/s, p99 {r.p99_ms:.1f} ms: {'met' if met else 'MISSED'}"
            )
        if name == "topic+w" and r.label.strip().startswith("the writer"):
            scheduled = int(args.write_rate * args.seconds)
            held = r.requests >= scheduled and r.errors == 0 and r.p99_ms < 1000 / args.write_rate
            out.append(
                f"  {r.phase} writer: {r.rate:.1f} articles/s "
                f"({r.requests:,} of {scheduled:,} scheduled, p99 {r.p99_ms:.0f} ms; "
                f"{'held' if held else 'NOT HELD'})"
            )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--events", type=int, default=1_000_000, help="size of a built store")
    parser.add_argument("--db-url", help="reuse this store (one backend) instead of building")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep built databases")
    parser.add_argument("--build-only", action="store_true", help="build, print URLs, stop")
    parser.add_argument(
        "--workers", type=int, default=4, help="gunicorn workers (serve's default on 2 cores)"
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker (serve's default)"
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--write-rate", type=float, default=20.0, help="articles/s in topic+w")
    parser.add_argument(
        "--write-warmup",
        type=float,
        default=10.0,
        help="seconds of writes at --write-rate before topic+w (0: none)",
    )
    parser.add_argument("--writers", type=int, default=4, help="POST clients")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        type=lambda text: text.split(","),
        help="comma-separated, of: " + ", ".join(PHASES),
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None and not args.build_only:
        parser.error("wrk is needed (Debian: apt-get install wrk)")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.db_url and len(backends) != 1:
        parser.error("--db-url needs --backend sqlite or --backend postgresql")
    args.seconds = max(1.0, min(args.seconds, 300.0))  # bounded in time
    articles = extract_corpus()
    dbs = Databases(args.postgres_url, args.keep or args.build_only)
    work = Path(tempfile.mkdtemp(prefix="factstore-apiload-run-"))
    results: list[PhaseResult] = []
    facts: dict[str, StoreFacts] = {}
    try:
        for backend in backends:
            print(f"[{backend}]", file=sys.stderr)
            if args.db_url:
                url = args.db_url
                catch_up(url)
            else:
                built = dbs.fresh(backend)
                build_store(built, articles, args.events, args.seed)
                url = built.render_as_string(hide_password=False)
            if args.build_only:
                print(f"{backend}: --db-url {url}")
                continue
            facts[backend] = store_facts(url)
            results += run_phases(backend, url, facts[backend], articles, args, work)
    finally:
        dbs.cleanup()
        print(f"  server logs and wrk output: {work}", file=sys.stderr)
    if results:
        print(report(results, facts, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
