"""A claim's status over time: asserted `active`, then changed by ranks, retraction or the
withdrawal of its article. Pure, so the projection and a replay agree by construction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from factstore.domain.catalog import (
    ARTICLE_WITHDRAWN,
    CLAIM_RANKED,
    CLAIM_RETRACTED,
)
from factstore.domain.figures import ClaimView

ACTIVE = "active"
TERMINAL = frozenset({"retracted", "withdrawn"})
RANK_TO_STATUS = {"preferred": "preferred", "deprecated": "deprecated", "normal": ACTIVE}


def status_after(current: str, change: str) -> str:
    """The status after a change; retraction and withdrawal are final."""
    if current in TERMINAL:
        return current
    return RANK_TO_STATUS.get(change, change)


def status_at(changes: Iterable[str]) -> str:
    status = ACTIVE
    for change in changes:
        status = status_after(status, change)
    return status


def change_of(event_type: str, data: Mapping[str, Any]) -> str:
    """The status change an event makes to the claims it names."""
    if event_type == CLAIM_RETRACTED:
        return "retracted"
    if event_type == CLAIM_RANKED:
        return str(data["rank"])
    if event_type == ARTICLE_WITHDRAWN:
        return "withdrawn"
    raise ValueError(f"{event_type} changes no claim status")


def change_reason(data: Mapping[str, Any]) -> str | None:
    """Why a status changed, as people read it: 'analyst: misread', 'double-counted'."""
    reason, detail = data.get("reason"), data.get("detail")
    if reason and detail:
        return f"{reason}: {detail}"
    return reason or detail


def claim_view(data: Mapping[str, Any], position: int, status: str = ACTIVE) -> ClaimView:
    """The policy's view of a ClaimAsserted event's data."""
    claim = data["claim"]
    article = data["article"]
    lower, upper = claim.get("lower"), claim.get("upper")
    return ClaimView(
        claim_id=str(data["claim_id"]),
        topic=str(claim["topic"]),
        kind=str(claim["kind"]),
        value=float(claim["value"]),
        lower=None if lower is None else float(lower),
        upper=None if upper is None else float(upper),
        qualifier=str(claim["qualifier"]),
        unit=str(claim["unit"]),
        as_of=claim.get("as_of"),
        published_at=article.get("published_at"),
        attributed_to=claim.get("attributed_to"),
        outlet=article.get("outlet"),
        article_id=str(article["article_id"]),
        status=status,
        position=position,
    )
