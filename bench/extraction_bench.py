"""Extraction speed benchmark: articles per second on one core, and peak memory.

    .venv/bin/python bench/extraction_bench.py [CORPUS.jsonl.gz] [--limit N] [--repeat R]

Streams the gzipped JSON-lines corpus (one article per line, never loaded whole), runs
`extract` on each article, and prints articles/s, MB/s of text, claims emitted and peak RSS.
Memory stays flat in the number of articles: nothing is kept but counters.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from factstore.extraction import EXTRACTOR_VERSION, extract

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared/corpus/news-2016.jsonl.gz"


def stream_articles(path: Path, limit: int | None = None) -> Iterator[dict[str, object]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and number >= limit:
                return
            yield json.loads(line)


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(path: Path, limit: int | None, repeat: int) -> dict[str, float]:
    articles = 0
    characters = 0
    claims = 0
    elapsed = 0.0
    cpu = 0.0  # process CPU time: what one core spends, whatever else runs on the machine
    rss_after_first_pass = 0.0
    for round_number in range(repeat):
        for record in stream_articles(path, limit):
            text = str(record.get("text") or "")
            published = record.get("published_at")
            started = time.perf_counter()
            cpu_started = time.process_time()
            result = extract(
                text,
                published_at=published if isinstance(published, str) else None,
                outlet=record.get("outlet") if isinstance(record.get("outlet"), str) else None,
            )
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            articles += 1
            characters += len(text)
            claims += len(result.claims)
        if round_number == 0:
            rss_after_first_pass = peak_rss_mb()
    return {
        "articles": articles,
        "seconds": elapsed,
        "articles_per_second": articles / elapsed if elapsed else 0.0,
        "cpu_seconds": cpu,
        "articles_per_cpu_second": articles / cpu if cpu else 0.0,
        "mb_per_second": characters / 1e6 / elapsed if elapsed else 0.0,
        "claims": claims,
        "peak_rss_mb_after_first_pass": rss_after_first_pass,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="articles per pass")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="passes over the corpus (peak RSS must not grow with passes)",
    )
    parser.add_argument(
        "--min-rate", type=float, default=None, help="exit 1 when articles/s is below this"
    )
    args = parser.parse_args(argv)
    stats = run(args.corpus, args.limit, args.repeat)
    print(f"extractor {EXTRACTOR_VERSION}  corpus {args.corpus.name}")
    print(
        f"{stats['articles']:.0f} articles in {stats['seconds']:.2f} s: "
        f"{stats['articles_per_second']:.0f} articles/s, {stats['mb_per_second']:.2f} MB/s, "
        f"{stats['claims']:.0f} claims"
    )
    print(
        f"CPU time {stats['cpu_seconds']:.2f} s: {stats['articles_per_cpu_second']:.0f} "
        "articles per CPU second (one core; insensitive to other load on the machine)"
    )
    print(
        f"peak RSS {stats['peak_rss_mb']:.1f} MB "
        f"(after first pass {stats['peak_rss_mb_after_first_pass']:.1f} MB)"
    )
    if args.min_rate is not None and stats["articles_per_second"] < args.min_rate:
        print(f"below the target of {args.min_rate:.0f} articles/s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
