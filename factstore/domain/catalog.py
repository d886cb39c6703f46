"""The event catalog: every event type the domain writes, its current schema version, how to
build it, and the upcasters that turn older stored shapes into the current one.

Stored events are never rewritten. When a shape changes, its schema version goes up and an
upcaster `(type, old_version) -> function` is added here; readers call `upcast` and only ever
see the current shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from factstore.domain.claims import Claim

ARTICLE_INGESTED = "ArticleIngested"
ARTICLE_REVISED = "ArticleRevised"
ARTICLE_WITHDRAWN = "ArticleWithdrawn"
CLAIM_ASSERTED = "ClaimAsserted"
CLAIM_RETRACTED = "ClaimRetracted"
CLAIM_RANKED = "ClaimRanked"

ARTICLE_CONTENT_EVENTS = (ARTICLE_INGESTED, ARTICLE_REVISED)

CURRENT_SCHEMA: dict[str, int] = {
    ARTICLE_INGESTED: 2,
    ARTICLE_REVISED: 2,
    ARTICLE_WITHDRAWN: 1,
    CLAIM_ASSERTED: 1,
    CLAIM_RETRACTED: 1,
    CLAIM_RANKED: 1,
}

RETRACTION_REASONS = ("gone_from_revision", "reextraction", "analyst", "article_withdrawn")
RANKS = ("preferred", "normal", "deprecated")

# Deterministic ids: the same content always gets the same event and claim ids, so retried or
# racing writes of identical content are idempotent no-ops in the store.
ID_NAMESPACE = uuid.UUID("6f1c2d1e-3a0b-5e52-9a4e-2f6a4d9b7c10")


def deterministic_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(ID_NAMESPACE, "|".join(str(p) for p in parts))


class UnknownSchemaVersion(ValueError):
    pass


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _article_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 (before extraction existed) recorded no extractor run: None means "never extracted".
    return {**data, "extractor_version": None}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    (ARTICLE_INGESTED, 1): _article_v1_to_v2,
    (ARTICLE_REVISED, 1): _article_v1_to_v2,
}


def upcast(event_type: str, schema_version: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's data in the current shape of its type, however old the stored shape is."""
    current = CURRENT_SCHEMA.get(event_type)
    shaped = dict(data)
    if current is None:
        return shaped  # not a domain event (benchmarks, other writers): passed through
    if schema_version > current:
        raise UnknownSchemaVersion(
            f"{event_type} v{schema_version} is newer than this code's v{current}: "
            "upgrade factstore"
        )
    version = schema_version
    while version < current:
        upcaster = UPCASTERS.get((event_type, version))
        if upcaster is None:
            raise UnknownSchemaVersion(f"no upcaster for {event_type} v{version}")
        shaped = upcaster(shaped)
        version += 1
    return shaped


# --- builders: the only place event data shapes are written -----------------------------------


@dataclass(frozen=True, slots=True)
class ArticleProvenance:
    """What a claim's provenance says about the article it came from."""

    article_id: str
    title: str | None
    outlet: str | None
    url: str | None
    published_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "outlet": self.outlet,
            "url": self.url,
            "published_at": self.published_at,
        }


def article_content_data(
    *,
    provenance: ArticleProvenance,
    text: str,
    content_hash: str,
    source: str | None,
    extractor_version: str | None,
) -> dict[str, Any]:
    return {
        **provenance.to_dict(),
        "content_hash": content_hash,
        "source": source,
        "extractor_version": extractor_version,
        "text": text,
    }


def claim_identity(stream_id: str, claims: Sequence[Claim], withdrawals: int = 0) -> list[str]:
    """Ids for an article's claims that survive edits elsewhere in the text.

    A claim is identified by its article and what it says (topic, figure, bounds, qualifier,
    unit, source), not by where it stands: moving a sentence or fixing a typo keeps the id,
    changing the figure makes a new claim. A figure stated twice gets an occurrence number.
    After the article was withdrawn (`withdrawals` times) and came back, its claims are new
    ones: the withdrawn claims stay withdrawn.
    """
    seen: dict[tuple[object, ...], int] = {}
    ids = []
    for claim in claims:
        key = (
            claim.topic,
            claim.value,
            claim.lower,
            claim.upper,
            claim.qualifier,
            claim.unit,
            claim.attributed_to,
        )
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        generation = (withdrawals,) if withdrawals else ()
        ids.append(str(deterministic_id(stream_id, "claim", *key, occurrence, *generation)))
    return ids


def claim_asserted_data(
    claim_id: str, claim: Claim, provenance: ArticleProvenance
) -> dict[str, Any]:
    return {"claim_id": claim_id, "article": provenance.to_dict(), "claim": claim.to_dict()}


def claim_retracted_data(claim_id: str, reason: str, detail: str | None = None) -> dict[str, Any]:
    if reason not in RETRACTION_REASONS:
        raise ValueError(f"unknown retraction reason {reason!r}: one of {RETRACTION_REASONS}")
    return {"claim_id": claim_id, "reason": reason, "detail": detail}


def claim_ranked_data(claim_id: str, rank: str, reason: str) -> dict[str, Any]:
    if rank not in RANKS:
        raise ValueError(f"unknown rank {rank!r}: one of {RANKS}")
    if not reason.strip():
        raise ValueError("a rank needs a reason")
    return {"claim_id": claim_id, "rank": rank, "reason": reason}
