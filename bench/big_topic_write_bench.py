"""Writes to big topics: what one new claim in a topic of tens of thousands of claims costs the
`figures` projection, the part of a POST that grew with the topic.

    .venv/bin/python bench/big_topic_write_bench.py --db-url URL            # a kept store
    .venv/bin/python bench/big_topic_write_bench.py --db-url URL --warm-claims 0  # warm set off

For each of the --topics biggest topics, --writes times: append one ClaimAsserted (a copy of
the topic's latest claim with a new id and figure, in a stream of this bench's own) and apply it
with `runner.step("figures")` in this process, timing the step (CPU and wall). The first step
of a topic loads all its claims (cold); the later ones find its folded state warm (WarmTopics)
and read only what changed. The events stay in the store: use a store kept for benchmarks
(e.g. `api_load_bench.py --build-only --keep`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from factstore.config import Settings
from factstore.domain import catalog
from factstore.domain.events import NewEvent
from factstore.projections import default_runner
from factstore.projections.models import claims_table, topics_table
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", required=True, help="a store with big topics")
    parser.add_argument("--topics", type=int, default=3, help="how many of the biggest topics")
    parser.add_argument("--writes", type=int, default=10, help="claims added to each")
    parser.add_argument(
        "--warm-claims", type=int, help="the warm-topics bound (0: off; default: the settings')"
    )
    args = parser.parse_args(argv)
    engine = create_store_engine(args.db_url)
    store = EventStore(engine)
    settings = Settings.from_env()
    if args.warm_claims is not None:
        settings = replace(settings, warm_claims=args.warm_claims)
    runner = default_runner(store, settings)
    print("catching up projections…", file=sys.stderr)
    runner.catch_up()
    t, c = topics_table.c, claims_table.c
    with engine.connect() as conn:
        biggest = conn.execute(
            select(t.topic, t.claims).order_by(t.claims.desc()).limit(args.topics)
        ).all()
    stream = f"bench-bigtopic-{uuid.uuid4().hex[:12]}"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; store: {store.backend}, head {store.head_position():,}; "
        f"warm claims {settings.warm_claims:,}"
    )
    print("| topic | claims | first write ms (CPU / wall) | later writes: median ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for topic, claims in biggest:
        with engine.connect() as conn:
            position = conn.execute(
                select(c.asserted_position)
                .where(c.topic == topic)
                .order_by(c.asserted_position.desc())
                .limit(1)
            ).scalar_one()
        template = store.read_all(position - 1, 1)[0]
        timings: list[tuple[float, float]] = []
        for number in range(args.writes):
            data = catalog.upcast(template.type, template.schema_version, template.data)
            store.append(stream, [_copy(data, number)])
            cpu, wall = time.process_time(), time.perf_counter()
            runner.step("figures")
            timings.append(
                ((time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000)
            )
        later_cpu = [cpu for cpu, _ in timings[1:]] or [0.0]
        later_wall = [wall for _, wall in timings[1:]] or [0.0]
        print(
            f"| {topic} | {claims:,} | {timings[0][0]:,.1f} / {timings[0][1]:,.1f} | "
            f"{statistics.median(later_cpu):,.1f} / {statistics.median(later_wall):,.1f} | "
            f"{max(later_cpu):,.1f} / {max(later_wall):,.1f} |"
        )
    runner.catch_up()  # the articles projection too: the store is left with no lag
    return 0


def _copy(data: dict[str, Any], number: int) -> NewEvent:
    """A ClaimAsserted like `data` (its claim, article and provenance) with a new claim id and
    a different figure (bounds scaled with it)."""
    copied = json.loads(json.dumps(data))
    claim = copied["claim"]
    factor = 1 + (number + 1) / 100
    for key in ("value", "lower", "upper"):
        if claim.get(key) is not None:
            claim[key] = round(claim[key] * factor)
    copied["claim_id"] = str(uuid.uuid4())
    version = catalog.CURRENT_SCHEMA[catalog.CLAIM_ASSERTED]
    return NewEvent(catalog.CLAIM_ASSERTED, copied, schema_version=version)


if __name__ == "__main__":
    raise SystemExit(main())
