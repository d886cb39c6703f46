"""Scoring the extractor against a hand-made reference (the format of shared/gold/seeds.json).

A claim matches a reference entry when its span overlaps the reference quote and the value
agrees (equal, or the reference value lies inside the claim's range). Matching is one to one.

- recall: required reference entries matched / required reference entries;
- precision: claims matching any reference entry (required or optional) / claims emitted;
- field accuracy, on matched pairs: measure, subject, qualifier and bounds, place,
  attributed_to, kind, as_of.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factstore.domain.claims import Claim

FIELDS = ("measure", "subject", "qualifier", "place", "attributed_to", "kind", "as_of")


@dataclass(frozen=True, slots=True)
class Mismatch:
    article: str
    quote: str
    field: str
    expected: Any
    got: Any


@dataclass(slots=True)
class Score:
    required: int = 0
    required_matched: int = 0
    emitted: int = 0
    emitted_matched: int = 0
    field_total: int = 0
    field_correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    missed: list[tuple[str, str]] = field(default_factory=list)  # (article, reference quote)
    spurious: list[tuple[str, str]] = field(default_factory=list)  # (article, claim quote)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.required_matched / self.required if self.required else 1.0

    @property
    def precision(self) -> float:
        return self.emitted_matched / self.emitted if self.emitted else 1.0

    @property
    def f1(self) -> float:
        total = self.recall + self.precision
        return 2 * self.recall * self.precision / total if total else 0.0

    def field_accuracy(self) -> dict[str, float]:
        if not self.field_total:
            return dict.fromkeys(FIELDS, 1.0)
        return {name: self.field_correct[name] / self.field_total for name in FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "f1": round(self.f1, 4),
            "required": self.required,
            "required_matched": self.required_matched,
            "emitted": self.emitted,
            "emitted_matched": self.emitted_matched,
            "matched_pairs": self.field_total,
            "field_accuracy": {k: round(v, 4) for k, v in self.field_accuracy().items()},
            "missed": [{"article": a, "quote": q} for a, q in self.missed],
            "spurious": [{"article": a, "quote": q} for a, q in self.spurious],
            "mismatches": [
                {
                    "article": m.article,
                    "quote": m.quote,
                    "field": m.field,
                    "expected": m.expected,
                    "got": m.got,
                }
                for m in self.mismatches
            ],
        }


def _overlaps(claim: Claim, reference: Mapping[str, Any]) -> int:
    return min(claim.end, int(reference["end"])) - max(claim.start, int(reference["start"]))


def value_agrees(claim: Claim, reference: Mapping[str, Any]) -> bool:
    expected = float(reference["value"])
    if abs(float(claim.value) - expected) <= 1e-6 * max(1.0, abs(expected)):
        return True
    if claim.qualifier == "between" and claim.lower is not None and claim.upper is not None:
        return claim.lower <= expected <= claim.upper
    return False


def _same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def _norm(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def field_correct(name: str, claim: Claim, reference: Mapping[str, Any]) -> bool:
    if name == "qualifier":
        return (
            claim.qualifier == reference.get("qualifier")
            and _same_number(claim.lower, reference.get("lower"))
            and _same_number(claim.upper, reference.get("upper"))
        )
    return bool(_norm(getattr(claim, name)) == _norm(reference.get(name)))


def score_article(
    key: str, claims: list[Claim], references: list[Mapping[str, Any]], score: Score
) -> None:
    pairs: list[tuple[int, int, int, int]] = []  # (-required, -overlap, claim, reference)
    for c_index, claim in enumerate(claims):
        for r_index, reference in enumerate(references):
            overlap = _overlaps(claim, reference)
            if overlap > 0 and value_agrees(claim, reference):
                pairs.append(
                    (0 if reference.get("required", True) else 1, -overlap, c_index, r_index)
                )
    pairs.sort()
    used_claims: set[int] = set()
    used_references: set[int] = set()
    for _, _, c_index, r_index in pairs:
        if c_index in used_claims or r_index in used_references:
            continue
        used_claims.add(c_index)
        used_references.add(r_index)
        claim, reference = claims[c_index], references[r_index]
        score.field_total += 1
        for name in FIELDS:
            if field_correct(name, claim, reference):
                score.field_correct[name] += 1
            else:
                got: Any = getattr(claim, name)
                expected: Any = reference.get(name)
                if name == "qualifier":
                    got = [claim.qualifier, claim.lower, claim.upper]
                    expected = [
                        reference.get("qualifier"),
                        reference.get("lower"),
                        reference.get("upper"),
                    ]
                score.mismatches.append(Mismatch(key, reference["quote"], name, expected, got))
    for r_index, reference in enumerate(references):
        if reference.get("required", True):
            score.required += 1
            if r_index in used_references:
                score.required_matched += 1
            else:
                score.missed.append((key, reference["quote"]))
    score.emitted += len(claims)
    score.emitted_matched += len(used_claims)
    for c_index, claim in enumerate(claims):
        if c_index not in used_claims:
            score.spurious.append((key, claim.quote))


def find_article(key: str, directories: Iterable[Path]) -> Path | None:
    for directory in directories:
        for suffix in (".txt", ".json", ""):
            candidate = directory / f"{key}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def evaluate(
    gold_path: Path, article_dirs: list[Path], extract_file: Callable[[Path], list[Claim]]
) -> Score:
    """Score `extract_file` on every article of the reference file."""
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    score = Score()
    for key, entry in gold["articles"].items():
        path = find_article(key, article_dirs)
        if path is None:
            raise FileNotFoundError(
                f"article {key} of {gold_path} not found in "
                f"{', '.join(str(d) for d in article_dirs)}"
            )
        score_article(key, extract_file(path), entry["claims"], score)
    return score


def default_article_dirs(gold_path: Path, given: Path | None) -> list[Path]:
    """--articles DIR, else ./seeds, else <gold dir>/../seeds."""
    if given is not None:
        return [given]
    return [Path("seeds"), gold_path.resolve().parent.parent / "seeds"]


def format_score(score: Score) -> str:
    lines = [
        f"recall     {score.recall:.3f}  ({score.required_matched}/{score.required} required)",
        f"precision  {score.precision:.3f}  ({score.emitted_matched}/{score.emitted} claims)",
        f"f1         {score.f1:.3f}",
        f"field accuracy on {score.field_total} matched claims:",
    ]
    for name, value in score.field_accuracy().items():
        lines.append(f"  {name:<14}{value:.3f}")
    for article, quote in score.missed:
        lines.append(f"missed    {article}: {quote!r}")
    for article, quote in score.spurious:
        lines.append(f"spurious  {article}: {quote!r}")
    for m in score.mismatches:
        lines.append(
            f"mismatch  {m.article}: {m.quote!r} {m.field}: expected {m.expected!r}, got {m.got!r}"
        )
    return "\n".join(lines)
