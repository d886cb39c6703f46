"""A fresh, in-memory replay of the log: what the projections must agree with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from factstore.domain import catalog
from factstore.domain.claim_status import change_of, claim_view, status_after
from factstore.domain.events import RecordedEvent
from factstore.domain.figures import ClaimView, decide, figure_summary


def replay_claims(events: Iterable[RecordedEvent]) -> dict[str, dict[str, ClaimView]]:
    """topic -> claim id -> claim (with its status) after these events."""
    topics: dict[str, dict[str, ClaimView]] = {}
    where: dict[str, str] = {}
    for event in events:
        data = catalog.upcast(event.type, event.schema_version, event.data)
        if event.type == catalog.CLAIM_ASSERTED:
            view = claim_view(data, event.position)
            claims = topics.setdefault(view.topic, {})
            if view.claim_id not in claims:
                claims[view.claim_id] = view
                where[view.claim_id] = view.topic
        elif event.type in (catalog.CLAIM_RETRACTED, catalog.CLAIM_RANKED):
            topic = where.get(data["claim_id"])
            if topic is not None:
                view = topics[topic][data["claim_id"]]
                status = status_after(view.status, change_of(event.type, data))
                topics[topic][view.claim_id] = view._replace(status=status)
        elif event.type == catalog.ARTICLE_WITHDRAWN:
            for claims in topics.values():
                for claim_id, view in list(claims.items()):
                    if view.article_id == data["article_id"]:
                        claims[claim_id] = view._replace(
                            status=status_after(view.status, "withdrawn")
                        )
    return topics


def replay_figures(
    events: Iterable[RecordedEvent], valid_at: str | None = None
) -> dict[str, dict[str, Any] | None]:
    return {
        topic: figure_summary(decide(list(claims.values()), valid_at=valid_at))
        for topic, claims in replay_claims(events).items()
    }


def snapshot(engine: Engine, tables: Iterable[Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of these tables, without surrogate ids, in a stable order."""
    result = {}
    with engine.connect() as conn:
        for table in tables:
            columns = [c for c in table.c if c.name != "id"]
            rows = conn.execute(select(*columns)).all()
            result[table.name] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
    return result


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
