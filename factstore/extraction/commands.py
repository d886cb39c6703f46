"""What `factstore extract` and `factstore eval` do, apart from argument parsing.

Kept here so that the CLI stays a thin adapter and so that both are testable without click.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factstore.domain.claims import Claim
from factstore.extraction import EXTRACTOR_VERSION, extract, find_quantities, read_article_input
from factstore.extraction.article import coerce_date
from factstore.extraction.evaluation import Score, default_article_dirs, evaluate


def read_source(name: str) -> str:
    """A file's text, or stdin for '-'."""
    if name == "-":
        return sys.stdin.read()
    return Path(name).read_text(encoding="utf-8")


def extract_document(name: str, raw: str, published_at: str | None = None) -> dict[str, Any]:
    """`{"file", "extractor_version", "article", "published_at", "claims"}` for one input."""
    article_input = read_article_input(raw)
    fallback = coerce_date(published_at) if published_at else None
    if published_at and fallback is None:
        raise ValueError(f"--published-at {published_at!r} is not a date (YYYY-MM-DD)")
    result = extract(
        article_input.text,
        published_at=article_input.published_at or fallback,
        outlet=article_input.outlet,
        title=article_input.title,
    )
    document = result.to_dict()
    return {"file": name, "extractor_version": EXTRACTOR_VERSION, **document}


def quantities_document(name: str, raw: str) -> dict[str, Any]:
    """Every quantity mention the number reader recognises in the text, claim or not."""
    text = read_article_input(raw).text
    mentions = []
    for quantity in find_quantities(text):
        mention = quantity.to_dict()
        mention["span"] = [quantity.start, quantity.end]
        mention["text"] = text[quantity.start : quantity.end]
        mentions.append(mention)
    return {"file": name, "quantities": mentions}


def run_extract(
    files: list[str], *, published_at: str | None, quantities: bool, compact: bool
) -> Iterator[str]:
    """One JSON document per input file, in order."""
    for name in files:
        raw = read_source(name)
        if quantities:
            document = quantities_document(name, raw)
        else:
            document = extract_document(name, raw, published_at)
        yield json.dumps(document, ensure_ascii=False, indent=None if compact else 2)


@dataclass(frozen=True, slots=True)
class EvalOutcome:
    score: Score
    failures: list[str]  # thresholds not met


def run_eval(
    gold: Path,
    articles: Path | None,
    *,
    min_recall: float | None = None,
    min_precision: float | None = None,
    min_f1: float | None = None,
    min_field: float | None = None,
) -> EvalOutcome:
    def extract_file(path: Path) -> list[Claim]:
        article = read_article_input(path.read_text(encoding="utf-8"))
        return extract(
            article.text,
            published_at=article.published_at,
            outlet=article.outlet,
            title=article.title,
        ).claims

    score = evaluate(gold, default_article_dirs(gold, articles), extract_file)
    failures: list[str] = []
    checks = [("recall", score.recall, min_recall), ("precision", score.precision, min_precision),
              ("f1", score.f1, min_f1)]  # fmt: skip
    checks += [(f"field {name}", value, min_field)
               for name, value in score.field_accuracy().items()]  # fmt: skip
    for label, value, threshold in checks:
        if threshold is not None and value < threshold:
            failures.append(f"{label} {value:.3f} below {threshold:.3f}")
    return EvalOutcome(score, failures)
