"""An article's stream: fold its events into its current state, and decide which events a new
reading of the article appends. Pure: the ingest service does the I/O around it.

What a reading appends:
- a new article: `ArticleIngested`, then one `ClaimAsserted` per claim;
- changed content: `ArticleRevised`, then the claim diff: `ClaimRetracted` (reason
  `gone_from_revision`) for active claims the new text no longer states, `ClaimAsserted` for
  claims it states for the first time, nothing for claims still there (see
  `catalog.claim_identity` for how a claim is recognised across revisions);
- identical content read by the same extractor version: nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from factstore.domain import catalog
from factstore.domain.claims import Claim
from factstore.domain.events import NewEvent, RecordedEvent


@dataclass(slots=True)
class ArticleState:
    stream_id: str
    version: int = 0
    content_hash: str | None = None
    extractor_version: str | None = None
    withdrawn: bool = False
    # How many times the article was withdrawn: claims of an article that came back are new
    # claims (the withdrawn ones stay withdrawn), so their ids differ by this count.
    withdrawals: int = 0
    # claim id -> the ClaimAsserted data, for claims neither retracted nor withdrawn.
    active_claims: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.version > 0


def fold(stream_id: str, events: Sequence[RecordedEvent]) -> ArticleState:
    state = ArticleState(stream_id)
    for event in events:
        data = catalog.upcast(event.type, event.schema_version, event.data)
        _apply(state, event.type, data)
        state.version = event.version
    return state


def advance(state: ArticleState, events: Sequence[NewEvent]) -> ArticleState:
    """The state after `events` (not yet stored) are appended to the stream."""
    following = ArticleState(
        state.stream_id,
        state.version,
        state.content_hash,
        state.extractor_version,
        state.withdrawn,
        state.withdrawals,
        dict(state.active_claims),
    )
    for event in events:
        _apply(following, event.type, dict(event.data))
        following.version += 1
    return following


def _apply(state: ArticleState, event_type: str, data: Mapping[str, Any]) -> None:
    if event_type in catalog.ARTICLE_CONTENT_EVENTS:
        state.content_hash = data["content_hash"]
        state.extractor_version = data.get("extractor_version")
        state.withdrawn = False
    elif event_type == catalog.ARTICLE_WITHDRAWN:
        state.withdrawn = True
        state.withdrawals += 1
        state.active_claims.clear()
    elif event_type == catalog.CLAIM_ASSERTED:
        state.active_claims[data["claim_id"]] = dict(data)
    elif event_type == catalog.CLAIM_RETRACTED:
        state.active_claims.pop(data["claim_id"], None)


@dataclass(frozen=True, slots=True)
class ArticleReading:
    """One reading of an article: its content and what the extractor found in it."""

    provenance: catalog.ArticleProvenance
    text: str
    content_hash: str
    source: str | None
    extractor_version: str
    claims: Sequence[Claim]


@dataclass(frozen=True, slots=True)
class Plan:
    status: str  # new | revised | unchanged
    events: tuple[NewEvent, ...]
    asserted: int = 0
    retracted: int = 0


def plan(state: ArticleState, reading: ArticleReading, metadata: Mapping[str, Any]) -> Plan:
    """The events this reading appends to the article's stream (possibly none)."""
    if (
        state.exists
        and not state.withdrawn
        and state.content_hash == reading.content_hash
        and state.extractor_version == reading.extractor_version
    ):
        return Plan("unchanged", ())
    event_type = catalog.ARTICLE_REVISED if state.exists else catalog.ARTICLE_INGESTED
    version = state.version + 1
    head_id = catalog.deterministic_id(state.stream_id, version, event_type, reading.content_hash)
    head = NewEvent(
        type=event_type,
        schema_version=catalog.CURRENT_SCHEMA[event_type],
        event_id=head_id,
        metadata=dict(metadata),
        data=catalog.article_content_data(
            provenance=reading.provenance,
            text=reading.text,
            content_hash=reading.content_hash,
            source=reading.source,
            extractor_version=reading.extractor_version,
        ),
    )
    caused = {
        **metadata,
        "causation_id": str(head_id),
        "causation_type": event_type,
        "correlation_id": str(metadata.get("correlation_id") or head_id),
    }
    reason, detail = (
        ("reextraction", f"not found by extractor {reading.extractor_version}")
        if state.content_hash == reading.content_hash
        else ("gone_from_revision", "no longer stated in the revised text")
    )
    ids = catalog.claim_identity(state.stream_id, reading.claims, state.withdrawals)
    current = dict(zip(ids, reading.claims, strict=True))
    events = [head]
    retracted = 0
    for claim_id in state.active_claims:
        if claim_id not in current:
            version += 1
            events.append(
                _claim_event(
                    catalog.CLAIM_RETRACTED,
                    state.stream_id,
                    version,
                    caused,
                    catalog.claim_retracted_data(claim_id, reason, detail),
                )
            )
            retracted += 1
    asserted = 0
    for claim_id, claim in current.items():
        if claim_id not in state.active_claims:
            version += 1
            events.append(
                _claim_event(
                    catalog.CLAIM_ASSERTED,
                    state.stream_id,
                    version,
                    caused,
                    catalog.claim_asserted_data(claim_id, claim, reading.provenance),
                )
            )
            asserted += 1
    status = "revised" if state.exists else "new"
    return Plan(status, tuple(events), asserted, retracted)


def _claim_event(
    event_type: str,
    stream_id: str,
    version: int,
    metadata: Mapping[str, Any],
    data: dict[str, Any],
) -> NewEvent:
    return NewEvent(
        type=event_type,
        schema_version=catalog.CURRENT_SCHEMA[event_type],
        event_id=catalog.deterministic_id(stream_id, version, event_type, data["claim_id"]),
        metadata=dict(metadata),
        data=data,
    )
