"""Analysts' corrections: rank or retract a claim. Recorded as events on the claim's article
stream with the actor, never by changing what was stored."""

from __future__ import annotations

from sqlalchemy import select

from factstore.domain import catalog
from factstore.domain.claim_status import TERMINAL
from factstore.domain.events import NewEvent, RecordedEvent, StreamState
from factstore.projections.models import claims_table
from factstore.projections.runner import ProjectionRunner
from factstore.store.errors import StoreError
from factstore.store.event_store import EventStore


class ClaimNotFound(StoreError):
    pass


class ClaimNotCorrectable(StoreError):
    """The claim's status does not allow this correction (e.g. it is already retracted)."""


def _claim_stream(store: EventStore, runner: ProjectionRunner, claim_id: str) -> tuple[str, str]:
    runner.catch_up()  # the claims index must know every claim stored so far
    c = claims_table.c
    with store.engine.connect() as conn:
        row = conn.execute(select(c.stream_id, c.status).where(c.claim_id == claim_id)).first()
    if row is None:
        raise ClaimNotFound(f"no claim {claim_id!r}")
    return row[0], row[1]


def rank_claim(
    store: EventStore,
    runner: ProjectionRunner,
    claim_id: str,
    rank: str,
    reason: str,
    actor: str,
) -> RecordedEvent:
    stream_id, status = _claim_stream(store, runner, claim_id)
    if status in TERMINAL:
        raise ClaimNotCorrectable(f"claim {claim_id} is {status}: it can no longer be ranked")
    data = catalog.claim_ranked_data(claim_id, rank, reason)
    return _append(store, runner, stream_id, catalog.CLAIM_RANKED, data, actor)


def retract_claim(
    store: EventStore, runner: ProjectionRunner, claim_id: str, reason: str, actor: str
) -> RecordedEvent:
    stream_id, status = _claim_stream(store, runner, claim_id)
    if status in TERMINAL:
        raise ClaimNotCorrectable(f"claim {claim_id} is already {status}")
    data = catalog.claim_retracted_data(claim_id, "analyst", reason)
    return _append(store, runner, stream_id, catalog.CLAIM_RETRACTED, data, actor)


def _append(
    store: EventStore,
    runner: ProjectionRunner,
    stream_id: str,
    event_type: str,
    data: dict[str, object],
    actor: str,
) -> RecordedEvent:
    event = NewEvent(
        event_type,
        data,
        metadata={"actor": actor, "source": "analyst"},
        schema_version=catalog.CURRENT_SCHEMA[event_type],
    )
    result = store.append(stream_id, [event], StreamState.ANY)
    runner.catch_up()
    return result.events[0]
