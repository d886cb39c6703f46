"""The scorer, and the seed reference (the targets of the issue)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factstore.domain.claims import Claim
from factstore.extraction import extract, read_article_input
from factstore.extraction.evaluation import Score, evaluate, score_article

ROOT = Path(__file__).resolve().parents[3]
GOLD = ROOT.parent / "shared" / "gold" / "seeds.json"


def claim_at(text: str, fragment: str, value: int, **fields: object) -> Claim:
    start = text.index(fragment)
    base = extract("Police said 3 people were killed.").claims[0].to_dict()
    base.update(
        quote=fragment,
        start=start,
        end=start + len(fragment),
        value=value,
        lower=value,
        upper=value,
        **fields,
    )
    return Claim.from_dict(base)


def test_match_needs_overlap_and_value() -> None:
    text = "Police said 3 people were killed and 5 wounded."
    references = [
        {
            "quote": "3 people were killed",
            "start": 12,
            "end": 32,
            "value": 3,
            "required": True,
            "measure": "killed",
            "subject": "people",
            "qualifier": "exact",
            "lower": 3,
            "upper": 3,
            "place": None,
            "attributed_to": "police",
            "kind": "incident",
            "as_of": None,
        },
        {"quote": "5 wounded", "start": 37, "end": 46, "value": 5, "required": False},
    ]
    claims = [
        claim_at(
            text,
            "3 people",
            3,
            measure="killed",
            attributed_to="police",
            as_of=None,
            place=None,
            kind="incident",
        ),
        claim_at(text, "5 wounded", 6),  # wrong value: no match
    ]
    score = Score()
    score_article("a", claims, references, score)
    assert (score.recall, score.precision) == (1.0, 0.5)
    assert score.field_accuracy()["attributed_to"] == 1.0


@pytest.mark.skipif(not GOLD.exists(), reason="shared gold reference not available")
def test_seed_reference_meets_the_targets() -> None:
    def run(path: Path) -> list[Claim]:
        article = read_article_input(path.read_text(encoding="utf-8"))
        return extract(article.text, published_at=article.published_at).claims

    score = evaluate(GOLD, [ROOT / "seeds", GOLD.parent.parent / "seeds"], run)
    assert score.recall >= 0.95, score.missed
    assert score.precision >= 0.90, score.spurious
    for name, accuracy in score.field_accuracy().items():
        assert accuracy >= 0.90, (name, [m for m in score.mismatches if m.field == name])
    assert json.dumps(score.to_dict())
