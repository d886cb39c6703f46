"""Audit pages benchmark: how long each page takes to render on an existing store, and the
query plan of every statement the topic page sends (an indexed read, never a scan of a table).

    .venv/bin/python bench/pages_bench.py --db-url sqlite:////tmp/big.db [--repeat 20]

Pages are rendered in-process through the Flask test client (no HTTP, no network jitter): the
times are the server's work for one request. Topics picked: the one with the most claims, a
median one, and the Mosul displacement seed topic when it is there; the largest also as known at
the middle of the log, and through the JSON API (the same queries and policy: the floor any page
of it can reach). Prints one line per page (median and max ms) and the plans.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from sqlalchemy import event, select, text

from api.app import create_app
from factstore.config import Settings
from factstore.projections.models import articles_table, topics_table

SEED_TOPIC = "total.displaced.people.mosul"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    app = create_app(Settings(database_url=args.db_url))
    engine = app.extensions["factstore"].store.engine
    with engine.connect() as conn:
        head = conn.execute(text("SELECT max(position) FROM events")).scalar() or 0
        topics = conn.execute(select(topics_table.c.topic).order_by(topics_table.c.claims)).all()
        article = conn.execute(
            select(articles_table.c.stream_id).order_by(articles_table.c.last_position).limit(1)
        ).scalar()
    names = [t for (t,) in topics]
    biggest, median = names[-1], names[len(names) // 2]
    print(f"store: {head:,} events, {len(names):,} topics ({engine.dialect.name})")
    pages = [
        ("topics", "/"),
        ("topics sorted by figure", "/?sort=-value"),
        ("topics filtered", "/?measure=killed&place=mosul"),
        (f"topic, most claims ({biggest})", f"/topics/{biggest}"),
        ("  the same topic's JSON (GET /v1/topics/…), for scale", f"/v1/topics/{biggest}"),
        ("topic, most claims, known_at=mid", f"/topics/{biggest}?known_at={head // 2}"),
        (f"topic, median ({median})", f"/topics/{median}"),
        ("article", f"/articles/{article}"),
        ("event log, newest", "/events"),
        ("event log, deep page", f"/events?before={head // 2}"),
    ]
    if SEED_TOPIC in names:
        pages.append(("topic, Mosul displaced", f"/topics/{SEED_TOPIC}"))
    client = app.test_client()
    for label, path in pages:
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        print(
            f"{label:60s} median {statistics.median(timings):7.1f} ms   max {max(timings):7.1f} ms"
        )
    print("\nplans of the topic page's statements (known_at set):")
    for statement, plan in _plans(app, engine, f"/topics/{biggest}?known_at={head // 2}"):
        print(" ", " ".join(statement.split())[:150])
        for line in plan:
            print("     ", line)


def _plans(app: Any, engine: Any, path: str) -> list[tuple[str, list[str]]]:
    captured: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        app.test_client().get(path)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = []
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for statement, params in captured:
            cursor = raw.cursor()
            cursor.execute(prefix + statement, params)
            rows = cursor.fetchall()
            plans.append((statement, [str(row[-1] if len(row) > 1 else row[0]) for row in rows]))
    return plans


if __name__ == "__main__":
    main()
