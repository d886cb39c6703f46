"""Server CPU per read, in-process: what each kind of GET costs the worker that serves it, without
the HTTP server, the network or a load generator (so it also tells how fast a machine is
compared with another run of the same code).

    .venv/bin/python bench/read_cpu_bench.py --db-url URL          # --requests 2000 --seed 3

The app (`create_app`) serves --requests GETs of each kind through `app.test_client()`, after a
tenth as many to warm caches: a current topic (uniform over topics), a topic list page, a
topic's history, an event page (50 events after a uniform position) and an article. Prints the
process CPU per request in ms (median of --rounds rounds).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from urllib.parse import quote

from sqlalchemy import select


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ["FACTSTORE_DATABASE_URL"] = args.db_url

    from api.app import create_app
    from factstore.projections.models import articles_table, topics_table
    from factstore.store.database import create_store_engine
    from factstore.store.event_store import EventStore

    engine = create_store_engine(args.db_url)
    head = EventStore(engine).head_position()
    with engine.connect() as conn:
        topics = list(conn.execute(select(topics_table.c.topic)).scalars())
        articles = list(conn.execute(select(articles_table.c.stream_id).limit(50_000)).scalars())
    engine.dispose()
    client = create_app().test_client()
    rng = random.Random(args.seed)
    kinds: dict[str, Callable[[], str]] = {
        "topic": lambda: f"/v1/topics/{quote(rng.choice(topics), safe='')}",
        "topic list (20)": lambda: "/v1/topics?limit=20",
        "history": lambda: f"/v1/topics/{quote(rng.choice(topics), safe='')}/history",
        "events (50)": lambda: f"/v1/events?after={rng.randint(0, max(0, head - 50))}&limit=50",
        "article": lambda: f"/v1/articles/{quote(rng.choice(articles), safe='')}",
    }
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; store: {engine.dialect.name}, {head:,} events, "
        f"{len(topics):,} topics"
    )
    print("| GET | CPU ms per request (median of rounds) | rounds |")
    print("|---|---:|---|")
    for name, path in kinds.items():
        for _ in range(max(1, args.requests // 10)):
            client.get(path())
        rounds = []
        for _ in range(args.rounds):
            paths = [path() for _ in range(args.requests)]
            start = time.process_time()
            for p in paths:
                status = client.get(p).status_code
                if status != 200:
                    raise SystemExit(f"read_cpu_bench: {p} answered {status}")
            rounds.append((time.process_time() - start) / args.requests * 1000)
        shown = ", ".join(f"{r:.2f}" for r in rounds)
        print(f"| {name} | {statistics.median(rounds):.2f} | {shown} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
