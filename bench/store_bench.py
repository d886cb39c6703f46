"""Event store benchmark: factstore vs the `eventsourcing` library vs plain driver inserts.

One command runs every phase for every system in the same run, on SQLite (a WAL file) and on
PostgreSQL, and prints events/s per phase and the target ratios:

    .venv/bin/python bench/store_bench.py                      # both backends, 100,000 events
    .venv/bin/python bench/store_bench.py --backend sqlite --events 20000

Phases (the same pre-built events for every system; each write phase starts from an empty, fresh
database or file of its own):

  per-stream  10 events per stream, one transaction per stream (the ingest shape).
  bulk        the same events, --batch-streams streams per transaction (the initial-load shape).
  read_all    page through the whole log written by the per-stream phase, --page-size events per
              query, decoding every event into the system's event object.

What each system does is described in BENCHMARKS.md ("Event store") and printed with --explain.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scratch import conninfo, create_database, drop_databases

from factstore.domain.events import NewEvent, RecordedEvent, StreamState
from factstore.store.database import create_store_engine
from factstore.store.event_store import AppendRequest, EventStore
from factstore.store.schema import upgrade

EVENTS_PER_STREAM = 10
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "factstore_bench_"

COLUMNS = (
    "position, event_id, stream_id, version, type, schema_version, data, metadata, "
    "recorded_at, prev_hash, hash, log_hash"
)


# --- the workload ------------------------------------------------------------------------------

PLACES = ["Mosul", "Kharkiv", "Gaza City", "Port-au-Prince", "Khartoum", "Aleppo", "Mariupol"]
MEASURES = ["people displaced", "civilian deaths", "tonnes of aid", "homes destroyed", "injured"]
OUTLETS = ["Reuters", "AP", "AFP", "BBC", "Al Jazeera", "The Guardian"]
TYPES = ["ClaimExtracted", "ClaimAsserted", "ValueCorrected", "SourceLinked", "ClaimReviewed"]


@dataclass
class Stream:
    stream_id: str
    aggregate_id: uuid.UUID  # eventsourcing needs a UUID originator id
    events: list[NewEvent]


def make_workload(n_events: int, seed: int = 7) -> list[Stream]:
    """n_events claim-like events (~400 bytes of JSON each), 10 per stream."""
    rng = random.Random(seed)
    streams: list[Stream] = []
    for s in range(n_events // EVENTS_PER_STREAM):
        aggregate_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        article = f"https://news.example.org/{rng.randrange(10**9)}"
        events = []
        for i in range(EVENTS_PER_STREAM):
            place = rng.choice(PLACES)
            measure = rng.choice(MEASURES)
            value = rng.randrange(1, 250_000)
            data = {
                "claim_id": f"claim-{s:07d}",
                "quote": (
                    f"Officials in {place} said at least {value:,} {measure} had been "
                    f"recorded since the start of the month, according to {rng.choice(OUTLETS)}."
                ),
                "value": value,
                "unit": "count",
                "measure": measure,
                "subject": {"kind": "population", "qualifier": "civilians"},
                "place": {"name": place, "country": "XX", "geonames_id": rng.randrange(10**7)},
                "period": {"start": "2026-10-01", "end": "2026-10-31"},
                "source": {"url": article, "outlet": rng.choice(OUTLETS)},
                "confidence": round(rng.random(), 3),
            }
            metadata = {"actor": "extractor", "correlation_id": f"ingest-{s // 500}"}
            events.append(
                NewEvent(
                    type=TYPES[i % len(TYPES)],
                    data=data,
                    metadata=metadata,
                    event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                )
            )
        streams.append(Stream(f"claim-{aggregate_id}", aggregate_id, events))
    return streams


def payload_bytes(streams: Sequence[Stream]) -> float:
    sample = [e for s in streams[:100] for e in s.events]
    return sum(len(json.dumps(e.data, separators=(",", ":")).encode()) for e in sample) / len(
        sample
    )


# --- timing helpers ----------------------------------------------------------------------------


class Progress:
    """A line on stderr, updated at most every half second."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.last = label, total, 0.0

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last > 0.5 or done >= self.total:
            self.last = now
            sys.stderr.write(f"\r  {self.label:<44} {done:>9,}/{self.total:,}")
            sys.stderr.flush()

    def done(self, seconds: float) -> None:
        # The load average shows when other processes competed for the CPU during a phase.
        sys.stderr.write(
            f"\r  {self.label:<44} {self.total:>9,} in {seconds:7.2f} s"
            f"  (load {os.getloadavg()[0]:.2f})\n"
        )
        sys.stderr.flush()


def timed(label: str, total: int, body: Callable[[Progress], int]) -> float:
    """Run body (which returns the number of events it handled); return events/s."""
    progress = Progress(label, total)
    gc.collect()
    start = time.perf_counter()
    handled = body(progress)
    seconds = time.perf_counter() - start
    progress.done(seconds)
    if handled != total:
        raise RuntimeError(f"{label}: handled {handled} events, expected {total}")
    return handled / seconds


def batches(streams: Sequence[Stream], size: int) -> Iterator[Sequence[Stream]]:
    for start in range(0, len(streams), size):
        yield streams[start : start + size]


# --- databases ---------------------------------------------------------------------------------


class Databases:
    """Fresh, empty databases (SQLite files or PostgreSQL databases), removed at the end."""

    def __init__(self, backend: str, postgres_url: str, keep: bool) -> None:
        self.backend = backend
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="factstore-bench-"))
        self.admin = make_url(postgres_url).set(drivername="postgresql+psycopg")
        self.created: list[str] = []

    def fresh(self, name: str) -> URL:
        if self.backend == "sqlite":
            return make_url(f"sqlite:///{self.tmp / (name + '.db')}")
        dbname = DB_PREFIX + name
        self.created.append(dbname)
        return create_database(self.admin, dbname)

    def psycopg_connect(self, url: URL) -> psycopg.Connection[Any]:
        return psycopg.connect(conninfo(url))

    def cleanup(self) -> None:
        if self.keep:
            print(f"kept: {self.tmp} {' '.join(self.created)}", file=sys.stderr)
            return
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.created:
            drop_databases(self.admin, self.created)


# --- factstore ---------------------------------------------------------------------------------


def factstore_engine(url: URL) -> sqlalchemy.Engine:
    engine = create_store_engine(url)
    upgrade(engine)
    return engine


def factstore_per_stream(url: URL, streams: Sequence[Stream]) -> float:
    engine = factstore_engine(url)
    store = EventStore(engine)

    def body(progress: Progress) -> int:
        n = 0
        for stream in streams:
            n += len(store.append(stream.stream_id, stream.events, StreamState.NO_STREAM).events)
            if n % 5000 == 0:
                progress.update(n)
        return n

    try:
        return timed("factstore per-stream append", len(streams) * EVENTS_PER_STREAM, body)
    finally:
        engine.dispose()


def factstore_bulk(url: URL, streams: Sequence[Stream], batch_streams: int) -> float:
    engine = factstore_engine(url)
    store = EventStore(engine)

    def body(progress: Progress) -> int:
        n = 0
        for batch in batches(streams, batch_streams):
            results = store.append_batch(
                [AppendRequest(s.stream_id, s.events, StreamState.NO_STREAM) for s in batch]
            )
            n += sum(len(r.events) for r in results)
            progress.update(n)
        return n

    try:
        return timed(
            f"factstore append_batch ({batch_streams} streams)",
            len(streams) * EVENTS_PER_STREAM,
            body,
        )
    finally:
        engine.dispose()


def factstore_read_all(url: URL, total: int, page_size: int) -> float:
    engine = create_store_engine(url)
    store = EventStore(engine)

    def body(progress: Progress) -> int:
        n, after = 0, 0
        while True:
            page: list[RecordedEvent] = store.read_all(after, page_size)
            if not page:
                return n
            n += len(page)
            after = page[-1].position
            progress.update(n)

    try:
        return timed("factstore read_all -> RecordedEvent", total, body)
    finally:
        engine.dispose()


# --- eventsourcing -----------------------------------------------------------------------------


def eventsourcing_classes() -> tuple[type, type]:
    from eventsourcing.application import Application
    from eventsourcing.domain import DomainEvent

    class ClaimEvent(DomainEvent):  # a frozen dataclass, like every eventsourcing event
        type: str
        data: dict[str, Any]
        metadata: dict[str, Any]

    return Application, ClaimEvent


_ES_CLASSES: tuple[type, type] | None = None


def es_classes() -> tuple[type, type]:
    global _ES_CLASSES
    if _ES_CLASSES is None:
        _ES_CLASSES = eventsourcing_classes()
    return _ES_CLASSES


def es_application(url: URL, dbs: Databases) -> Any:
    application_class, _ = es_classes()
    if dbs.backend == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(url.database)}
    else:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(url.database),
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
        }
    return application_class(env=env)


def es_events(streams: Sequence[Stream]) -> list[list[Any]]:
    """The workload as eventsourcing domain events (built before the clock starts, like ours)."""
    _, event_class = es_classes()
    timestamp = datetime.now(UTC)
    return [
        [
            event_class(
                originator_id=s.aggregate_id,
                originator_version=v,
                timestamp=timestamp,
                type=e.type,
                data=dict(e.data),
                metadata=dict(e.metadata),
            )
            for v, e in enumerate(s.events, start=1)
        ]
        for s in streams
    ]


def es_sqlite_synchronous(app: Any) -> int | None:
    pool = getattr(app.recorder.datastore, "pool", None)
    if pool is None or not hasattr(pool, "db_name"):
        return None
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        value: int = cursor.fetchone()[0]
        return value


def eventsourcing_per_stream(url: URL, dbs: Databases, events: Sequence[list[Any]]) -> float:
    app = es_application(url, dbs)

    def body(progress: Progress) -> int:
        n = 0
        for stream_events in events:
            app.events.put(stream_events)
            n += len(stream_events)
            if n % 5000 == 0:
                progress.update(n)
        return n

    try:
        return timed("eventsourcing EventStore.put per stream", len(events) * 10, body)
    finally:
        app.close()


def eventsourcing_bulk(
    url: URL, dbs: Databases, events: Sequence[list[Any]], batch_streams: int
) -> float:
    app = es_application(url, dbs)

    def body(progress: Progress) -> int:
        n = 0
        for start in range(0, len(events), batch_streams):
            chunk = [e for stream in events[start : start + batch_streams] for e in stream]
            app.events.put(chunk)
            n += len(chunk)
            progress.update(n)
        return n

    try:
        return timed(
            f"eventsourcing EventStore.put ({batch_streams} streams)", len(events) * 10, body
        )
    finally:
        app.close()


def eventsourcing_read(url: URL, dbs: Databases, total: int, page_size: int) -> float:
    app = es_application(url, dbs)
    recorder, mapper = app.recorder, app.mapper

    def body(progress: Progress) -> int:
        n, start = 0, 1
        while True:
            notifications = recorder.select_notifications(start, page_size)
            if not notifications:
                return n
            decoded = [mapper.to_domain_event(x) for x in notifications]
            n += len(decoded)
            start = notifications[-1].id + 1
            progress.update(n)

    try:
        return timed("eventsourcing notifications -> domain events", total, body)
    finally:
        app.close()


# --- plain driver ------------------------------------------------------------------------------


def stored_rows(url: URL, dbs: Databases) -> list[tuple[Any, ...]]:
    """Every row factstore stored, exactly as the driver returns it (so as it accepts it)."""
    query = f"SELECT {COLUMNS} FROM events ORDER BY position"
    if dbs.backend == "sqlite":
        with sqlite3.connect(str(url.database)) as conn:
            return conn.execute(query).fetchall()
    with dbs.psycopg_connect(url) as conn:
        return conn.execute(query).fetchall()


class PlainDriver:
    """The same rows with sqlite3/psycopg executemany, no store logic at all."""

    insert = f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join(['%s'] * 12)})"

    def __init__(self, url: URL, dbs: Databases, create: bool) -> None:
        self.backend = dbs.backend
        if create:
            factstore_engine(url).dispose()  # the same table, indexes and triggers
        self.conn: Any
        if self.backend == "sqlite":
            self.conn = sqlite3.connect(str(url.database), isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.sql = self.insert.replace("%s", "?")
            self.begin = "BEGIN IMMEDIATE"
            self.select = (
                f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
            )
        else:
            self.conn = dbs.psycopg_connect(url)
            self.sql = self.insert
            self.begin = ""
            self.select = (
                f"SELECT {COLUMNS} FROM events WHERE position > %s ORDER BY position LIMIT %s"
            )

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        cursor = self.conn.cursor()
        if self.begin:
            cursor.execute(self.begin)
            cursor.executemany(self.sql, rows)
            cursor.execute("COMMIT")
        else:
            cursor.executemany(self.sql, rows)
            self.conn.commit()
        cursor.close()

    def read_page(self, after: int, limit: int) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.execute(self.select, (after, limit))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        cursor.close()
        if self.begin == "":
            self.conn.commit()
        return rows

    def close(self) -> None:
        self.conn.close()


def plain_write(url: URL, dbs: Databases, rows: Sequence[tuple[Any, ...]], per_tx: int) -> float:
    driver = PlainDriver(url, dbs, create=True)
    label = (
        "plain executemany, 1 stream/tx" if per_tx == 10 else f"plain executemany, {per_tx} rows/tx"
    )

    def body(progress: Progress) -> int:
        n = 0
        for start in range(0, len(rows), per_tx):
            chunk = rows[start : start + per_tx]
            driver.write(chunk)
            n += len(chunk)
            if n % 5000 == 0 or per_tx > 10:
                progress.update(n)
        return n

    try:
        return timed(label, len(rows), body)
    finally:
        driver.close()


def plain_read(url: URL, dbs: Databases, total: int, page_size: int) -> float:
    driver = PlainDriver(url, dbs, create=False)
    loads = json.loads

    def body(progress: Progress) -> int:
        n, after = 0, 0
        while True:
            page = driver.read_page(after, page_size)
            if not page:
                return n
            decoded = [(*row[:6], loads(row[6]), loads(row[7]), *row[8:]) for row in page]
            n += len(decoded)
            after = page[-1][0]
            progress.update(n)

    try:
        return timed("plain SELECT page + json.loads", total, body)
    finally:
        driver.close()


# --- one backend -------------------------------------------------------------------------------


@dataclass
class Results:
    backend: str
    rates: dict[tuple[str, str], float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run_backend(backend: str, args: argparse.Namespace, streams: Sequence[Stream]) -> Results:
    dbs = Databases(backend, args.postgres_url, args.keep)
    results = Results(backend)
    total = len(streams) * EVENTS_PER_STREAM
    print(f"\n[{backend}] {total:,} events", file=sys.stderr)
    es = es_events(streams)
    try:
        # Interleaved by phase, so a noisy neighbour hits the three systems alike.
        r = results.rates
        stream_db, es_stream_db = dbs.fresh("fs_stream"), dbs.fresh("es_stream")
        r["factstore", "per-stream"] = factstore_per_stream(stream_db, streams)
        r["eventsourcing", "per-stream"] = eventsourcing_per_stream(es_stream_db, dbs, es)
        rows = stored_rows(stream_db, dbs)
        plain_db = dbs.fresh("plain_stream")
        r["plain", "per-stream"] = plain_write(plain_db, dbs, rows, EVENTS_PER_STREAM)

        r["factstore", "bulk"] = factstore_bulk(dbs.fresh("fs_bulk"), streams, args.batch_streams)
        r["eventsourcing", "bulk"] = eventsourcing_bulk(
            dbs.fresh("es_bulk"), dbs, es, args.batch_streams
        )
        r["plain", "bulk"] = plain_write(
            dbs.fresh("plain_bulk"), dbs, rows, args.batch_streams * EVENTS_PER_STREAM
        )

        r["factstore", "read_all"] = factstore_read_all(stream_db, total, args.page_size)
        r["eventsourcing", "read_all"] = eventsourcing_read(
            es_stream_db, dbs, total, args.page_size
        )
        r["plain", "read_all"] = plain_read(plain_db, dbs, total, args.page_size)
        if backend == "sqlite":
            app = es_application(es_stream_db, dbs)
            results.notes.append(f"eventsourcing PRAGMA synchronous = {es_sqlite_synchronous(app)}")
            app.close()
    finally:
        dbs.cleanup()
    return results


# --- report ------------------------------------------------------------------------------------


def machine_info(args: argparse.Namespace) -> list[str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    lines = [
        f"machine: {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"psycopg {psycopg.__version__}, eventsourcing {version('eventsourcing')}, "
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if args.backend in ("postgresql", "both"):
        try:
            url = make_url(args.postgres_url)
            with psycopg.connect(conninfo(url)) as conn:
                row = conn.execute(
                    "SELECT version(), current_setting('synchronous_commit')"
                ).fetchone()
                assert row is not None
                lines.append(f"{row[0].split(' on ')[0]} (synchronous_commit={row[1]}, fsync on)")
        except Exception as error:
            lines.append(f"PostgreSQL: unavailable ({error})")
    return lines


PHASES = ("per-stream", "bulk", "read_all")
SYSTEMS = ("factstore", "eventsourcing", "plain")


def targets(r: dict[tuple[str, str], float]) -> list[tuple[str, float, float]]:
    """(what, measured ratio, required ratio)."""
    return [
        (
            "per-stream vs eventsourcing per-stream",
            r["factstore", "per-stream"] / r["eventsourcing", "per-stream"],
            1.2,
        ),
        (
            "bulk vs eventsourcing per-stream",
            r["factstore", "bulk"] / r["eventsourcing", "per-stream"],
            3.0,
        ),
        (
            "read_all vs eventsourcing read",
            r["factstore", "read_all"] / r["eventsourcing", "read_all"],
            1.3,
        ),
        *(
            (f"{phase} vs plain driver", r["factstore", phase] / r["plain", phase], 0.5)
            for phase in PHASES
        ),
    ]


def report(all_results: Sequence[Results]) -> str:
    out: list[str] = []
    header = (
        f"| {'backend':<10} | {'phase':<10} | {'factstore':>10} | {'eventsourcing':>13} | "
        f"{'plain':>10} | {'fs/es':>6} | {'fs/plain':>8} |"
    )
    out += [header, "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"]
    for res in all_results:
        r = res.rates
        for phase in PHASES:
            out.append(
                f"| {res.backend:<10} | {phase:<10} | {r['factstore', phase]:>10,.0f} | "
                f"{r['eventsourcing', phase]:>13,.0f} | {r['plain', phase]:>10,.0f} | "
                f"{r['factstore', phase] / r['eventsourcing', phase]:>6.2f} | "
                f"{r['factstore', phase] / r['plain', phase]:>8.2f} |"
            )
    out.append("")
    out.append("(events/s; fs/es and fs/plain are factstore's rate divided by the other's)")
    out.append("")
    out.append("Targets:")
    for res in all_results:
        for what, ratio, required in targets(res.rates):
            ok = "met" if ratio >= required else "MISSED"
            out.append(f"  {res.backend:<10} {what:<42} {ratio:6.2f}x (>= {required}x)  {ok}")
        out += [f"  {res.backend:<10} note: {note}" for note in res.notes]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="multiple of 10")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server to create the benchmark databases on (%(default)s)",
    )
    parser.add_argument(
        "--batch-streams",
        type=int,
        default=250,
        help="streams per transaction in the bulk phase (%(default)s)",
    )
    parser.add_argument(
        "--page-size", type=int, default=1000, help="events per read query (%(default)s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args(argv)

    streams = make_workload(args.events)
    info = machine_info(args)
    info.append(
        f"workload: {len(streams) * EVENTS_PER_STREAM:,} events, {EVENTS_PER_STREAM}/stream, "
        f"data JSON ~{payload_bytes(streams):.0f} bytes, bulk {args.batch_streams} streams/tx, "
        f"read pages of {args.page_size}"
    )
    print("\n".join(info), file=sys.stderr)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    load_before = os.getloadavg()
    all_results = [run_backend(b, args, streams) for b in backends]
    info.append(
        "load average (1/5/15 min): "
        f"{' '.join(f'{x:.2f}' for x in load_before)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"
    )
    print()
    print("\n".join(info))
    print()
    print(report(all_results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
