"""Read-side shapes that matter to clients: bounded documents for huge topics."""

from __future__ import annotations

from factstore.projections import queries
from factstore.projections.documents import COMPETING_SHOWN
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore
from tests.factories import asserted, make_claim


def test_a_topic_with_many_disagreeing_claims_lists_only_the_latest(
    store: EventStore, runner: ProjectionRunner
) -> None:
    store.append("article-a1", [asserted("c-best", make_claim(value=100, attributed_to="UN"))])
    for i in range(COMPETING_SHOWN + 5):
        claim = make_claim(value=1000 + i * 100, attributed_to=f"Source {i}")
        store.append(f"article-b{i}", [asserted(f"c-{i:03d}", claim, article_id=f"b{i}")])
    runner.catch_up()
    document = queries.topic_figure(store.engine, "total.killed.people.mosul")
    assert document is not None
    assert document["figure"]["provenance"]["claim_id"] == "c-best"
    assert document["competing_total"] == COMPETING_SHOWN + 5
    shown = [c["claim_id"] for c in document["competing"]]
    assert shown == [f"c-{i:03d}" for i in range(5, COMPETING_SHOWN + 5)]
    claims, total = queries.list_claims(store.engine, topic="total.killed.people.mosul")
    assert total == COMPETING_SHOWN + 6 and len(claims) == total
