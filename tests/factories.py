"""Builders for test data: claims, claim views and domain events, with sensible defaults."""

from __future__ import annotations

from typing import Any

from factstore.domain import catalog
from factstore.domain.claims import Claim
from factstore.domain.events import NewEvent
from factstore.domain.figures import ClaimView

BOUNDS = {
    "exact": lambda v: (v, v),
    "more_than": lambda v: (v, None),
    "at_least": lambda v: (v, None),
    "up_to": lambda v: (None, v),
    "about": lambda v: (None, None),
}


def make_claim(**overrides: Any) -> Claim:
    value = overrides.pop("value", 100)
    qualifier = overrides.pop("qualifier", "exact")
    lower, upper = BOUNDS[qualifier](value)
    fields: dict[str, Any] = {
        "quote": f"{value} people were killed",
        "start": 0,
        "end": 10,
        "sentence": f"{value} people were killed.",
        "value": value,
        "lower": lower,
        "upper": upper,
        "qualifier": qualifier,
        "unit": "count",
        "stated_unit": None,
        "measure": "killed",
        "subject": "people",
        "place": "mosul",
        "attributed_to": None,
        "kind": "total",
        "as_of": "2017-05-10",
        "as_of_inferred": False,
        "valid_from": None,
        "topic": "total.killed.people.mosul",
        "rule": "test",
        "extractor_version": "test",
    }
    fields.update(overrides)
    return Claim(**fields)


def make_view(claim_id: str = "c1", **overrides: Any) -> ClaimView:
    value = overrides.pop("value", 100)
    qualifier = overrides.pop("qualifier", "exact")
    lower, upper = BOUNDS[qualifier](value)
    fields: dict[str, Any] = {
        "claim_id": claim_id,
        "topic": "total.killed.people.mosul",
        "kind": "total",
        "value": value,
        "lower": lower,
        "upper": upper,
        "qualifier": qualifier,
        "unit": "count",
        "as_of": "2017-05-10",
        "published_at": "2017-05-10",
        "attributed_to": None,
        "outlet": None,
        "article_id": "a1",
        "status": "active",
        "position": 1,
    }
    fields.update(overrides)
    return ClaimView(**fields)


def provenance(article_id: str = "a1", **overrides: Any) -> catalog.ArticleProvenance:
    fields: dict[str, Any] = {
        "article_id": article_id,
        "title": "T",
        "outlet": "Wire",
        "url": None,
        "published_at": "2017-05-10",
    }
    fields.update(overrides)
    return catalog.ArticleProvenance(**fields)


def asserted(claim_id: str, claim: Claim, article_id: str = "a1") -> NewEvent:
    return NewEvent(
        catalog.CLAIM_ASSERTED,
        catalog.claim_asserted_data(claim_id, claim, provenance(article_id)),
    )


def retracted(claim_id: str, reason: str = "analyst") -> NewEvent:
    return NewEvent(catalog.CLAIM_RETRACTED, catalog.claim_retracted_data(claim_id, reason))


def ranked(claim_id: str, rank: str, actor: str = "analyst") -> NewEvent:
    return NewEvent(
        catalog.CLAIM_RANKED,
        catalog.claim_ranked_data(claim_id, rank, "checked against the source"),
        metadata={"actor": actor},
    )


def article_content(
    article_id: str, text: str, *, revised: bool = False, schema_version: int = 2
) -> NewEvent:
    """An ArticleIngested (or, `revised`, ArticleRevised) event; version 1 is the old shape."""
    data = catalog.article_content_data(
        provenance=provenance(article_id, title=text[:20]),
        text=text,
        content_hash=f"sha256:{abs(hash(text)):064x}",
        source=None,
        extractor_version="test",
    )
    typ = catalog.ARTICLE_REVISED if revised else catalog.ARTICLE_INGESTED
    return NewEvent(typ, data, schema_version=schema_version)


def withdrawn(article_id: str) -> NewEvent:
    return NewEvent(catalog.ARTICLE_WITHDRAWN, {"article_id": article_id, "reason": "gone"})
