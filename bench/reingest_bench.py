"""Re-ingestion benchmark: a 10,000-article jsonl source ingested once, then re-ingested
unchanged. Target: the unchanged run appends nothing and takes under 1/10 of the first.

    .venv/bin/python bench/reingest_bench.py [--articles 10000] [--backend sqlite|postgresql|both]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1/postgres]

The source file is written to a temporary folder (never into the repository) from
../shared/corpus/news-2016.jsonl.gz (4,354 articles) topped up with reuters-21578.jsonl.gz
in file order. Each backend gets a fresh scratch database (SQLite: a temp file; PostgreSQL: a
database made and dropped here). Both runs go through `run_sources`, the function behind
`factstore reingest` and the scheduler's jobs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch import create_database, drop_databases

from factstore.ingest.reingest import run_sources
from factstore.ingest.sources_config import SourceConfig
from factstore.projections import default_runner
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.schema import upgrade

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared/corpus"
FILES = ("news-2016.jsonl.gz", "reuters-21578.jsonl.gz")


def records(limit: int) -> Iterator[str]:
    count = 0
    for name in FILES:
        with gzip.open(CORPUS / name, "rt", encoding="utf-8") as handle:
            for line in handle:
                if count == limit:
                    return
                record = json.loads(line)
                if not str(record.get("text") or "").strip():
                    continue
                count += 1
                yield json.dumps(record, ensure_ascii=False)


def build_source(folder: Path, limit: int) -> Path:
    path = folder / "articles.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        written = sum(1 for line in records(limit) if handle.write(line + "\n"))
    if written < limit:
        raise SystemExit(f"the corpus has only {written} usable articles")
    return path


def timed_run(store: EventStore, source: SourceConfig) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    report = run_sources(
        store, default_runner(store), [source], job_id="bench", trigger="cli", actor="bench"
    )
    elapsed = time.perf_counter() - started
    if report.status != "ok":
        raise SystemExit(f"run {report.status}: {report.sources}")
    return elapsed, report.totals


def bench(url: str, source: SourceConfig) -> dict[str, object]:
    engine = create_store_engine(url)
    try:
        upgrade(engine)
        store = EventStore(engine)
        load_before = os.getloadavg()[0]
        first_s, first = timed_run(store, source)
        second_s, second = timed_run(store, source)
        load_after = os.getloadavg()[0]
        return {
            "first_s": first_s,
            "first": first,
            "second_s": second_s,
            "second": second,
            "ratio": second_s / first_s,
            "head": store.head_position(),
            "load": (load_before, load_after),
        }
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"machine: {os.cpu_count()} × {cpu}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="factstore-reingest-") as folder:
        path = build_source(Path(folder), args.articles)
        source = SourceConfig(id="corpus", kind="jsonl", path=path, interval_s=3600)
        print(f"source: {args.articles} articles, {path.stat().st_size / 1e6:.1f} MB gzipped")
        for backend in backends:
            scratch = None
            if backend == "sqlite":
                url = f"sqlite:///{folder}/bench.db"
            else:
                scratch = f"factstore_reingest_{uuid.uuid4().hex[:8]}"
                url = create_database(make_url(args.postgres_url), scratch).render_as_string(
                    hide_password=False
                )
            try:
                result = bench(url, source)
            finally:
                if scratch is not None:
                    drop_databases(make_url(args.postgres_url), [scratch])
            first, second = result["first"], result["second"]
            assert isinstance(first, dict) and isinstance(second, dict)
            print(
                f"{backend}: first ingest {result['first_s']:.1f}s ({first['new']} new, "
                f"{first['events_appended']} events); unchanged re-ingest "
                f"{result['second_s']:.2f}s ({second['unchanged']} unchanged, "
                f"{second['events_appended']} events appended); ratio "
                f"{result['ratio']:.3f} (target < 0.1); log head {result['head']}; "
                f"load average {result['load'][0]:.1f} -> {result['load'][1]:.1f}"  # type: ignore[index]
            )


if __name__ == "__main__":
    main()
