"""Projection benchmark: rebuild speed of the `figures` projection and as-of query latency.

One command builds a realistic log from the real corpus and the seeds (see bench/projection_log.py
for how), on SQLite (a WAL file) and on PostgreSQL, and prints a table:

    .venv/bin/python bench/projection_bench.py                          # 1,000,000 events, both
    .venv/bin/python bench/projection_bench.py --events 200000 --backend sqlite --sizes 10000
    .venv/bin/python bench/projection_bench.py --rebuild-only URL --repeat 3  # a kept log
    .venv/bin/python bench/projection_bench.py --as-of-only URL             # a kept log

With --keep, the database is also copied at each measured size (`log-<events>.db` next to the
SQLite file, `<database>_<events>` on PostgreSQL), so the as-of latency at every size can be
measured again later (--as-of-only) on exactly the log of that size.

The log grows in one database per backend. Each time it reaches a measured size (--sizes, and
finally --events; it stops at the first whole batch past the size, so sizes are approximate and
printed exactly) the run:

  rebuild  times `ProjectionRunner.rebuild("figures")` over the whole log (events in the log /
           seconds; one transaction, exactly what `factstore` runs), and with --articles
           `rebuild("articles")` for information;
  as-of    times `queries.topic_figure(engine, topic, known_at=p)` for --samples random points p
           (uniform over the log so far) and topics drawn uniformly from the topics that exist at
           p (had a claim at or before p): median and p99 in milliseconds. The database holds
           only the log written so far, so a query can never see more than that size.

Progress goes to stderr, the tables to stdout. Databases live in a temp dir (SQLite) or as
`factstore_projbench_*` databases on --postgres-url, removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import gc
import math
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from projection_log import LogGenerator, LogShape, extract_corpus
from scratch import conninfo, create_database, drop_databases

from factstore.projections import default_runner, queries
from factstore.projections.models import claims_table
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.schema import upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "factstore_projbench_"


@dataclass
class SizeResult:
    backend: str
    events: int
    rebuild_seconds: float
    articles_seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    topic_claims: list[int] = field(default_factory=list)  # claims known at p, per sample
    load: str = ""  # 1-minute load average after the size's measurements

    @property
    def rebuild_rate(self) -> float:
        return self.events / self.rebuild_seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)


@dataclass
class BackendResult:
    backend: str
    sizes: list[SizeResult]
    shape: LogShape
    topics: int
    claims_per_topic: list[int]
    append_rate: float


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


# --- databases -----------------------------------------------------------------------------------


class Databases:
    def __init__(self, postgres_url: str, keep: bool) -> None:
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="factstore-projbench-"))
        self.admin = make_url(postgres_url).set(drivername="postgresql+psycopg")
        self.created: list[str] = []

    def fresh(self, backend: str) -> URL:
        if backend == "sqlite":
            return make_url(f"sqlite:///{self.tmp / 'log.db'}")
        dbname = f"{DB_PREFIX}{int(time.time())}"
        self.created.append(dbname)
        return create_database(self.admin, dbname)

    def copy(self, engine: sqlalchemy.Engine, events: int) -> str:
        """A copy of the log as it is now, for later --as-of-only runs at this size."""
        url = engine.url
        if url.get_backend_name() == "sqlite":
            target = self.tmp / f"log-{events}.db"
            with sqlite3.connect(str(url.database)) as source, sqlite3.connect(target) as dest:
                source.backup(dest)
            return str(make_url(f"sqlite:///{target}"))
        engine.dispose()  # a template database must have no other sessions
        name = f"{url.database}_{events}"
        with psycopg.connect(conninfo(self.admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')
        self.created.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    def cleanup(self) -> None:
        if self.keep:
            print(f"kept: {self.tmp} {' '.join(self.created)}", file=sys.stderr)
            return
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.created:
            drop_databases(self.admin, self.created)


# --- phases --------------------------------------------------------------------------------------


def status(text: str) -> None:
    sys.stderr.write(f"\r  {text:<78}")
    sys.stderr.flush()


def grow(store: EventStore, batches: Any, target: int, written: int) -> tuple[int, float]:
    """Append whole batches until the log holds at least `target` events."""
    seconds = 0.0
    last = 0.0
    while written < target:
        requests = next(batches)
        start = time.perf_counter()
        results = store.append_batch(requests)
        seconds += time.perf_counter() - start
        written += sum(len(r.events) for r in results)
        if time.perf_counter() - last > 0.5:
            last = time.perf_counter()
            status(f"appending: {written:,}/{target:,} events")
    status(f"appended {written:,} events")
    sys.stderr.write("\n")
    return written, seconds


def topic_firsts(engine: sqlalchemy.Engine) -> tuple[list[int], list[str]]:
    """Every topic with the position of its first claim, ordered by that position."""
    c = claims_table.c
    with engine.connect() as conn:
        rows = sorted(
            (int(first), topic)
            for topic, first in conn.execute(
                select(c.topic, func.min(c.asserted_position)).group_by(c.topic)
            )
        )
    return [r[0] for r in rows], [r[1] for r in rows]


def sample_as_of(
    engine: sqlalchemy.Engine, head: int, samples: int, seed: int
) -> tuple[list[float], list[int], list[float]]:
    """Wall-clock latencies (ms), claims known per queried topic, this process's CPU ms."""
    firsts, topics = topic_firsts(engine)
    rng = random.Random(seed)
    points: list[tuple[str, int]] = []
    while len(points) < samples + 20 and topics:
        position = rng.randint(1, head)
        existing = bisect.bisect_right(firsts, position)
        if existing:
            points.append((topics[rng.randrange(existing)], position))
    latencies: list[float] = []
    sizes: list[int] = []
    cpu: list[float] = []
    for number, (topic, position) in enumerate(points):
        start, start_cpu = time.perf_counter(), time.thread_time()
        document = queries.topic_figure(engine, topic, known_at=position)
        elapsed = (time.perf_counter() - start) * 1000
        elapsed_cpu = (time.thread_time() - start_cpu) * 1000
        if document is None:
            raise RuntimeError(f"{topic} existed at {position} but has no figure document")
        if number >= 20:  # the first 20 warm the pool and caches
            latencies.append(elapsed)
            cpu.append(elapsed_cpu)
            sizes.append(int(document["claims"]))
        if number % 50 == 0:
            status(f"as-of queries: {number:,}/{len(points):,}")
    status(
        f"as-of queries: {samples:,} timed; this process's CPU time per query (what the "
        f"code costs, without waits for the CPU or the server): median "
        f"{statistics.median(cpu):.2f} ms, p99 {percentile(cpu, 99):.2f} ms"
    )
    sys.stderr.write("\n")
    return latencies, sizes, cpu


def timed_rebuild(runner: Any, name: str, profile: Path | None, backend: str) -> tuple[int, float]:
    gc.collect()
    status(f"rebuilding {name}…")
    profiler = cProfile.Profile() if profile else None
    start, start_cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    applied = int(runner.rebuild(name))
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    status(
        f"rebuilt {name}: {applied:,} events in {seconds:.2f} s ({applied / seconds:,.0f}/s); "
        f"this process's CPU {cpu:.2f} s ({applied / cpu:,.0f}/CPU-s), load {load()}"
    )
    sys.stderr.write("\n")
    if profiler and profile:
        path = profile.with_name(f"{profile.stem}-{backend}-{name}{profile.suffix or '.prof'}")
        profiler.dump_stats(path)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(30)
        print(f"  profile written to {path}", file=sys.stderr)
    return applied, seconds


def run_backend(backend: str, args: argparse.Namespace, dbs: Databases) -> BackendResult:
    print(f"[{backend}]", file=sys.stderr)
    url = dbs.fresh(backend)
    engine = create_store_engine(url)
    upgrade(engine)
    store = EventStore(engine)
    runner = default_runner(store)
    generator = LogGenerator(args.articles, seed=args.seed)
    batches = generator.batches(args.batch_streams)
    sizes = sorted({*(s for s in args.sizes if s < args.events), args.events})
    written, append_seconds = 0, 0.0
    results: list[SizeResult] = []
    try:
        for size in sizes:
            written, seconds = grow(store, batches, size, written)
            append_seconds += seconds
            head = store.head_position()
            final = size == sizes[-1]
            applied, rebuild_s = timed_rebuild(
                runner, "figures", args.profile if final else None, backend
            )
            if applied != head:
                raise RuntimeError(f"rebuild applied {applied} events, log holds {head}")
            articles_s = math.nan
            if args.time_articles:
                articles_s = timed_rebuild(runner, "articles", None, backend)[1]
            latencies, topic_sizes, _ = sample_as_of(engine, head, args.samples, args.seed + head)
            if args.keep and not final:
                copy = dbs.copy(engine, head)
                print(f"  log of {head:,} events copied to {copy}", file=sys.stderr)
            results.append(
                SizeResult(backend, head, rebuild_s, articles_s, latencies, topic_sizes, load())
            )
        c = claims_table.c
        count = select(func.count()).select_from(claims_table).group_by(c.topic)
        with engine.connect() as conn:
            per_topic = sorted(int(n) for (n,) in conn.execute(count))
        return BackendResult(
            backend,
            results,
            generator.shape,
            len(per_topic),
            per_topic,
            written / append_seconds,
        )
    finally:
        engine.dispose()


def rebuild_only(url: str, repeat: int, profile: Path | None) -> int:
    engine = create_store_engine(url)
    try:
        runner = default_runner(EventStore(engine))
        backend = engine.dialect.name
        print(f"{machine_info_short()}\nrebuild(figures) on {make_url(url).render_as_string()}")
        for _ in range(repeat):
            applied, seconds = timed_rebuild(runner, "figures", profile, backend)
            rate = applied / seconds
            print(
                f"| {backend:<10} | {applied:>9,} | {seconds:>8.2f} | {rate:>8,.0f} "
                f"| load {load()} |"
            )
    finally:
        engine.dispose()
    return 0


def as_of_only(url: str, samples: int, seed: int) -> int:
    """Time as-of queries on an existing log (a kept copy): the same sampling as a full run."""
    engine = create_store_engine(url)
    try:
        head = EventStore(engine).head_position()
        print(f"{machine_info_short()}\nas-of on {make_url(url).render_as_string()}")
        latencies, sizes, cpu = sample_as_of(engine, head, samples, seed + head)
        median = statistics.median(latencies)
        print(
            f"| {engine.dialect.name:<10} | {head:>9,} | median {median:.2f} ms"
            f" | p99 {percentile(latencies, 99):.2f} ms | claims/topic queried "
            f"{statistics.median(sizes):,.0f}, {percentile(sizes, 99):,} | CPU median "
            f"{statistics.median(cpu):.2f} ms, p99 {percentile(cpu, 99):.2f} ms | load {load()} |"
        )
    finally:
        engine.dispose()
    return 0


def load() -> str:
    """The 1-minute load average now: the machine is shared, so every figure carries it."""
    return f"{os.getloadavg()[0]:.2f}"


def machine_info_short() -> str:
    return (
        f"machine: {platform.machine()}, Python {platform.python_version()}, "
        f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


# --- report --------------------------------------------------------------------------------------


def machine_info(args: argparse.Namespace) -> list[str]:
    lines = [
        f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"psycopg {psycopg.__version__}, SQLite {sqlite3.sqlite_version}",
    ]
    if args.backend in ("postgresql", "both"):
        with psycopg.connect(conninfo(make_url(args.postgres_url))) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            lines[0] += f", PostgreSQL {row[0] if row else '?'}"
    return lines


def report(results: Sequence[BackendResult], args: argparse.Namespace) -> str:
    out = [*machine_info(args), ""]
    shape = results[0]
    per_topic = shape.claims_per_topic
    out.append(
        f"log shape (seed {args.seed}, {shape.shape.events:,} events, "
        f"{shape.shape.editions:,} editions):"
    )
    for event_type, count in sorted(shape.shape.events_by_type.items(), key=lambda kv: -kv[1]):
        out.append(f"  {event_type:<18} {count:>10,}")
    ops = ", ".join(f"{k} {v:,}" for k, v in sorted(shape.shape.operations.items()))
    out.append(f"  appends: {ops}")
    out.append(
        f"  topics: {shape.topics:,}; claims per topic: max {per_topic[-1]:,}, "
        f"p99 {percentile(per_topic, 99):,}, p90 {percentile(per_topic, 90):,}, "
        f"median {statistics.median(per_topic):,.0f}; top 5: "
        f"{', '.join(f'{n:,}' for n in per_topic[-5:][::-1])}"
    )
    out.append("")
    header = (
        "| backend    |    events | figures rebuild s | events/s | articles rebuild s "
        "| as-of median ms | as-of p99 ms | claims/topic queried (median, p99) | load |"
    )
    out.append(header)
    out.append("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for backend in results:
        for r in backend.sizes:
            out.append(
                f"| {r.backend:<10} | {r.events:>9,} | {r.rebuild_seconds:>17.2f} | "
                f"{r.rebuild_rate:>8,.0f} | {r.articles_seconds:>18.2f} | {r.median_ms:>15.2f} | "
                f"{r.p99_ms:>12.2f} | {statistics.median(r.topic_claims):>10,.0f}, "
                f"{percentile(r.topic_claims, 99):>6,}"
                f"{'':>16} | {r.load} |"
            )
    out.append("")
    out.append("targets:")
    for backend in results:
        final = backend.sizes[-1]
        met = final.rebuild_rate >= 50_000 and final.events >= 1_000_000
        out.append(
            f"  {backend.backend}: rebuild {final.rebuild_rate:,.0f} events/s over "
            f"{final.events:,} events (≥ 50,000 over ≥ 1,000,000: {'met' if met else 'MISSED'})"
        )
        if len(backend.sizes) > 1:
            for label, attr in (("median", "median_ms"), ("p99", "p99_ms")):
                values = [getattr(r, attr) for r in backend.sizes]
                ratio = max(values) / min(values)
                out.append(
                    f"  {backend.backend}: as-of {label} max/min across sizes {ratio:.2f} "
                    f"(≤ 2: {'met' if ratio <= 2 else 'MISSED'})"
                )
        out.append(f"  {backend.backend}: (log written at {backend.append_rate:,.0f} events/s)")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="10000,100000", help="as-of sizes below --events")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--samples", type=int, default=500, help="as-of queries per size")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--batch-streams", type=int, default=500, help="streams per append")
    parser.add_argument("--articles-limit", type=int, help="extract only the first N articles")
    parser.add_argument("--profile", type=Path, help="cProfile the final rebuild into PATH")
    parser.add_argument(
        "--articles",
        dest="time_articles",
        action="store_true",
        help="also time rebuild(articles)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--rebuild-only",
        metavar="URL",
        help="only time rebuild(figures) (--repeat times) on the log already in URL "
        "(e.g. one kept with --keep); no log is built, no as-of queries",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rebuilds with --rebuild-only")
    parser.add_argument(
        "--as-of-only",
        metavar="URL",
        help="only time --samples as-of queries on the log already in URL (e.g. a copy kept "
        "with --keep at one size; the projection must be up to date)",
    )
    args = parser.parse_args(argv)
    if args.as_of_only:
        return as_of_only(args.as_of_only, args.samples, args.seed)
    if args.rebuild_only:
        return rebuild_only(args.rebuild_only, args.repeat, args.profile)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.articles = extract_corpus(limit=args.articles_limit)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    dbs = Databases(args.postgres_url, args.keep)
    try:
        results = [run_backend(backend, args, dbs) for backend in backends]
    finally:
        dbs.cleanup()
    print(report(results, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
