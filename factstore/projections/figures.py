"""Projection `figures`: the claims index, each claim's status changes, every topic's current
best figure, and the history of how each topic's figure changed.

A batch is applied in memory first: the topics it touches are loaded once, every event is
folded in order (recomputing the touched topic's decision with the pure policy after each, so
the history sees every change), and the rows are written in bulk at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select

from factstore.domain import catalog
from factstore.domain.claim_status import change_of, change_reason, claim_view, status_after
from factstore.domain.events import RecordedEvent
from factstore.domain.figures import ClaimView, PolicyConfig, decide, figure_summary
from factstore.projections.models import (
    claims_table,
    history_table,
    status_changes_table,
    topics_table,
)
from factstore.store.hashing import canonical_json

CLAIM_EVENTS = frozenset(
    {
        catalog.CLAIM_ASSERTED,
        catalog.CLAIM_RETRACTED,
        catalog.CLAIM_RANKED,
        catalog.ARTICLE_WITHDRAWN,
    }
)
_CHUNK = 500


@dataclass(slots=True)
class _TopicState:
    meta: dict[str, Any]
    claims: dict[str, ClaimView]
    summary: dict[str, Any] | None
    exists: bool  # a row is already stored
    dirty: bool = False
    updated_position: int = 0
    updated_at: datetime | None = None
    decision_sources: int = 0


@dataclass(slots=True)
class _Batch:
    topics: dict[str, _TopicState] = field(default_factory=dict)
    new_claims: list[dict[str, Any]] = field(default_factory=list)
    status_updates: dict[str, tuple[str, int]] = field(default_factory=dict)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any] | None] = field(default_factory=list)
    # topic -> (index in `history`, causation id) of its last row in this batch
    last_change: dict[str, tuple[int, str]] = field(default_factory=dict)


class FiguresProjection:
    name = "figures"
    tables: tuple[Table, ...] = (claims_table, status_changes_table, topics_table, history_table)

    def __init__(self, policy: PolicyConfig | None = None) -> None:
        self.policy = policy or PolicyConfig()

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        relevant = [e for e in events if e.type in CLAIM_EVENTS]
        if not relevant:
            return
        batch = _Batch()
        shaped = [(e, catalog.upcast(e.type, e.schema_version, e.data)) for e in relevant]
        claim_topics = self._claim_topics(conn, shaped)
        self._load_topics(conn, batch, set(claim_topics.values()))
        for event, data in shaped:
            self._apply_one(conn, batch, claim_topics, event, data)
        self._write(conn, batch)

    # --- loading ---------------------------------------------------------------------------------

    def _claim_topics(
        self, conn: Connection, shaped: list[tuple[RecordedEvent, dict[str, Any]]]
    ) -> dict[str, str]:
        """claim id -> topic for every claim the batch mentions (new ones and stored ones)."""
        topics: dict[str, str] = {}
        wanted: set[str] = set()
        withdrawn_streams: set[str] = set()
        for event, data in shaped:
            if event.type == catalog.CLAIM_ASSERTED:
                topics[str(data["claim_id"])] = str(data["claim"]["topic"])
            elif event.type == catalog.ARTICLE_WITHDRAWN:
                withdrawn_streams.add(event.stream_id)
            else:
                wanted.add(str(data["claim_id"]))
        wanted -= topics.keys()
        c = claims_table.c
        for ids in _chunks(sorted(wanted)):
            query = select(c.claim_id, c.topic).where(c.claim_id.in_(ids))
            # (A Result has .keys(): dict.update would treat it as a mapping.)
            topics.update((claim_id, topic) for claim_id, topic in conn.execute(query))
        for streams in _chunks(sorted(withdrawn_streams)):
            query = select(c.claim_id, c.topic).where(c.stream_id.in_(streams))
            topics.update((claim_id, topic) for claim_id, topic in conn.execute(query))
        # Claims asserted earlier in this batch for withdrawn streams are found while folding.
        return topics

    def _load_topics(self, conn: Connection, batch: _Batch, topics: set[str]) -> None:
        c, t = claims_table.c, topics_table.c
        for chunk in _chunks(sorted(topics - batch.topics.keys())):
            for row in conn.execute(select(topics_table).where(t.topic.in_(chunk))).mappings():
                batch.topics[row["topic"]] = _TopicState(
                    meta=_meta(row),
                    claims={},
                    summary=_stored_summary(row),
                    exists=True,
                    updated_position=row["updated_position"],
                    updated_at=row["updated_at"],
                    decision_sources=row["sources"],
                )
            for row in conn.execute(select(claims_table).where(c.topic.in_(chunk))).mappings():
                state = batch.topics[row["topic"]]
                state.claims[row["claim_id"]] = claim_view_from_row(row)

    # --- folding ---------------------------------------------------------------------------------

    def _apply_one(
        self,
        conn: Connection,
        batch: _Batch,
        claim_topics: dict[str, str],
        event: RecordedEvent,
        data: dict[str, Any],
    ) -> None:
        if event.type == catalog.CLAIM_ASSERTED:
            view = claim_view(data, event.position)
            if view.topic not in batch.topics:
                self._load_topics(conn, batch, {view.topic})
            state = batch.topics.get(view.topic)
            if state is None:
                claim = data["claim"]
                state = _TopicState(
                    meta={
                        "measure": claim["measure"],
                        "subject": claim["subject"],
                        "place": claim.get("place"),
                        "kind": claim["kind"],
                        "unit": claim["unit"],
                    },
                    claims={},
                    summary=None,
                    exists=False,
                )
                batch.topics[view.topic] = state
            if view.claim_id in state.claims:
                return  # asserted already (a re-extraction that found the same claim)
            state.claims[view.claim_id] = view
            batch.new_claims.append(_claim_row(view, data, event))
            self._recompute(batch, state, view.topic, event, view.claim_id, None)
            return

        if event.type == catalog.ARTICLE_WITHDRAWN:
            article_id = data["article_id"]
            targets = [
                (claim_id, topic)
                for topic, state in batch.topics.items()
                for claim_id, view in state.claims.items()
                if view.article_id == article_id
            ]
        else:
            claim_id = str(data["claim_id"])
            topic = claim_topics.get(claim_id)
            if topic is None:
                return  # names a claim that was never asserted: nothing to change
            targets = [(claim_id, topic)]
        change = change_of(event.type, data)
        for claim_id, topic in targets:
            state = batch.topics[topic]
            known = state.claims.get(claim_id)
            if known is None:
                continue
            status = status_after(known.status, change)
            if status == known.status:
                continue
            state.claims[claim_id] = replace(known, status=status)
            batch.status_updates[claim_id] = (status, event.position)
            batch.status_changes.append(
                {
                    "claim_id": claim_id,
                    "topic": topic,
                    "position": event.position,
                    "recorded_at": event.recorded_at,
                    "status": status,
                    "event_type": event.type,
                    "reason": change_reason(data),
                    "actor": event.metadata.get("actor"),
                }
            )
            self._recompute(batch, state, topic, event, claim_id, change_reason(data))

    def _recompute(
        self,
        batch: _Batch,
        state: _TopicState,
        topic: str,
        event: RecordedEvent,
        claim_id: str,
        reason: str | None,
    ) -> None:
        decision = decide(list(state.claims.values()), self.policy)
        summary = figure_summary(decision)
        state.dirty = True
        state.updated_position = event.position
        state.updated_at = event.recorded_at
        state.decision_sources = decision.sources
        if _figure_key(summary) == _figure_key(state.summary):
            state.summary = summary  # same figure, perhaps now backed by another claim
            return
        causation = event.metadata.get("causation_id")
        cause = event.metadata.get("causation_type")
        detail = "; ".join(p for p in (reason, f"caused by {cause}" if cause else None) if p)
        row: dict[str, Any] = {
            "topic": topic,
            "position": event.position,
            "recorded_at": event.recorded_at,
            "cause_event_type": event.type,
            "cause_event_id": str(event.event_id),
            "cause_claim_id": claim_id,
            "cause_detail": detail or None,
            "before_json": None if state.summary is None else canonical_json(state.summary),
            "after_json": None if summary is None else canonical_json(summary),
            "conflict": decision.conflict,
        }
        previous = batch.last_change.get(topic)
        if causation and previous is not None and previous[1] == causation:
            # One append (e.g. a revision's retraction and new claim) is one change: readers
            # never saw the state between its events.
            merged = batch.history[previous[0]] or row
            details = [d for d in (merged["cause_detail"], row["cause_detail"]) if d]
            row["before_json"] = merged["before_json"]
            row["cause_detail"] = "; ".join(dict.fromkeys("; ".join(details).split("; ")))
            # A net no-change (e.g. a figure retracted and restated) leaves no row.
            unchanged = _figure_key(_loads(row["before_json"])) == _figure_key(summary)
            batch.history[previous[0]] = None if unchanged else row
        else:
            batch.history.append(row)
            if causation:
                batch.last_change[topic] = (len(batch.history) - 1, causation)
        state.summary = summary

    # --- writing ---------------------------------------------------------------------------------

    def _write(self, conn: Connection, batch: _Batch) -> None:
        if batch.new_claims:
            conn.execute(claims_table.insert(), batch.new_claims)
        if batch.status_updates:
            c = claims_table.c
            conn.execute(
                claims_table.update()
                .where(c.claim_id == bindparam("b_claim_id"))
                .values(status=bindparam("b_status"), status_position=bindparam("b_position")),
                [
                    {"b_claim_id": claim_id, "b_status": status, "b_position": position}
                    for claim_id, (status, position) in batch.status_updates.items()
                ],
            )
        if batch.status_changes:
            conn.execute(status_changes_table.insert(), batch.status_changes)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for topic, state in batch.topics.items():
            if not state.dirty:
                continue
            row = _topic_row(topic, state)
            (updates if state.exists else inserts).append(row)
        if inserts:
            conn.execute(topics_table.insert(), inserts)
        if updates:
            t = topics_table.c
            values: dict[str, Any] = {k: bindparam(f"b_{k}") for k in updates[0] if k != "topic"}
            conn.execute(
                topics_table.update().where(t.topic == bindparam("b_topic")).values(values),
                [{f"b_{k}": v for k, v in row.items()} for row in updates],
            )
        history = [row for row in batch.history if row is not None]
        if history:
            conn.execute(history_table.insert(), history)


# What makes a figure different (which claim backs it does not, on its own).
_FIGURE_FIELDS = (
    "value",
    "lower",
    "upper",
    "qualifier",
    "unit",
    "as_of",
    "low",
    "high",
    "conflict",
)


def _figure_key(summary: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    return None if summary is None else tuple(summary.get(k) for k in _FIGURE_FIELDS)


def _loads(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _meta(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("measure", "subject", "place", "kind", "unit")}


def _stored_summary(row: Mapping[Any, Any]) -> dict[str, Any] | None:
    return None if row["summary_json"] is None else dict(json.loads(row["summary_json"]))


def claim_view_from_row(row: Mapping[Any, Any]) -> ClaimView:
    return ClaimView(
        claim_id=row["claim_id"],
        topic=row["topic"],
        kind=row["kind"],
        value=row["value"],
        lower=row["lower"],
        upper=row["upper"],
        qualifier=row["qualifier"],
        unit=row["unit"],
        as_of=row["as_of"],
        published_at=row["published_at"],
        attributed_to=row["attributed_to"],
        outlet=row["outlet"],
        article_id=row["article_id"],
        status=row["status"],
        position=row["asserted_position"],
    )


def _claim_row(view: ClaimView, data: Mapping[str, Any], event: RecordedEvent) -> dict[str, Any]:
    claim = data["claim"]
    return {
        "claim_id": view.claim_id,
        "topic": view.topic,
        "stream_id": event.stream_id,
        "article_id": view.article_id,
        "measure": claim["measure"],
        "subject": claim["subject"],
        "place": claim.get("place"),
        "kind": view.kind,
        "value": view.value,
        "lower": view.lower,
        "upper": view.upper,
        "qualifier": view.qualifier,
        "unit": view.unit,
        "as_of": view.as_of,
        "published_at": view.published_at,
        "attributed_to": view.attributed_to,
        "outlet": view.outlet,
        "status": view.status,
        "asserted_position": event.position,
        "asserted_at": event.recorded_at,
        "status_position": event.position,
        "claim_json": canonical_json(claim),
        "article_json": canonical_json(data["article"]),
    }


def _topic_row(topic: str, state: _TopicState) -> dict[str, Any]:
    summary = state.summary or {}
    return {
        "topic": topic,
        **state.meta,
        "best_claim_id": summary.get("claim_id"),
        "value": summary.get("value"),
        "qualifier": summary.get("qualifier"),
        "as_of": summary.get("as_of"),
        "low": summary.get("low"),
        "high": summary.get("high"),
        "sources": state.decision_sources,
        "claims": len(state.claims),
        "conflict": bool(summary.get("conflict")),
        "summary_json": None if state.summary is None else canonical_json(state.summary),
        "updated_position": state.updated_position,
        "updated_at": state.updated_at,
    }
