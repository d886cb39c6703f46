"""Event shapes (upcasting), claim identity across revisions, and what a reading appends."""

from __future__ import annotations

import pytest

from factstore.domain import article_stream, catalog
from factstore.domain.claims import Claim
from factstore.domain.events import NewEvent
from tests.factories import make_claim, provenance

V1_ARTICLE = {
    "article_id": "a1",
    "content_hash": "sha256:x",
    "title": None,
    "outlet": None,
    "published_at": None,
    "url": None,
    "source": "seeds/a1.txt",
    "text": "…",
}


def test_v1_article_events_load_in_the_current_shape() -> None:
    for event_type in (catalog.ARTICLE_INGESTED, catalog.ARTICLE_REVISED):
        data = catalog.upcast(event_type, 1, V1_ARTICLE)
        assert data == {**V1_ARTICLE, "extractor_version": None}
        assert catalog.upcast(event_type, 2, data) == data


def test_events_from_newer_code_are_refused_not_misread() -> None:
    with pytest.raises(catalog.UnknownSchemaVersion, match="newer"):
        catalog.upcast(catalog.CLAIM_ASSERTED, 99, {})


def test_non_domain_events_pass_through() -> None:
    assert catalog.upcast("BenchmarkTick", 7, {"n": 1}) == {"n": 1}


def test_claim_identity_survives_moves_and_edits_elsewhere() -> None:
    a = make_claim(value=20, start=10, end=20)
    b = make_claim(value=7, topic="total.killed.people.aleppo", start=40, end=50)
    ids = catalog.claim_identity("s", [a, b])
    moved = catalog.claim_identity(
        "s",
        [
            make_claim(value=7, topic=b.topic, start=5, end=9),
            make_claim(value=20, start=99, end=120),
        ],
    )
    assert set(ids) == set(moved)
    edited = catalog.claim_identity("s", [make_claim(value=44, start=10, end=20)])
    assert edited[0] not in ids
    twice = catalog.claim_identity("s", [a, a])
    assert len(set(twice)) == 2
    assert catalog.claim_identity("other", [a])[0] != ids[0]


def reading(
    claims: list[Claim], content: str = "sha256:1", extractor: str = "x1"
) -> article_stream.ArticleReading:
    return article_stream.ArticleReading(
        provenance=provenance(),
        text="…",
        content_hash=content,
        source=None,
        extractor_version=extractor,
        claims=tuple(claims),
    )


def apply(
    state: article_stream.ArticleState, events: tuple[NewEvent, ...]
) -> article_stream.ArticleState:
    return article_stream.advance(state, events)


def test_new_article_asserts_every_claim_with_causation() -> None:
    state = article_stream.ArticleState("article-a1")
    plan = article_stream.plan(
        state, reading([make_claim(value=20), make_claim(value=3, topic="t2")]), {"actor": "me"}
    )
    assert plan.status == "new"
    assert [e.type for e in plan.events] == ["ArticleIngested", "ClaimAsserted", "ClaimAsserted"]
    head = plan.events[0]
    assert all(e.metadata["causation_id"] == str(head.event_id) for e in plan.events[1:])
    assert all(e.metadata["actor"] == "me" for e in plan.events)
    # Deterministic: planning the same reading again gives the same ids.
    again = article_stream.plan(
        state, reading([make_claim(value=20), make_claim(value=3, topic="t2")]), {"actor": "me"}
    )
    assert [e.event_id for e in again.events] == [e.event_id for e in plan.events]


def test_unchanged_reading_appends_nothing() -> None:
    state = apply(
        article_stream.ArticleState("article-a1"),
        article_stream.plan(
            article_stream.ArticleState("article-a1"), reading([make_claim()]), {}
        ).events,
    )
    assert article_stream.plan(state, reading([make_claim()]), {}).events == ()


def test_revision_appends_only_the_claim_diff() -> None:
    start = article_stream.ArticleState("article-a1")
    kept = make_claim(value=7, topic="t-kept")
    state = apply(
        start, article_stream.plan(start, reading([make_claim(value=20), kept]), {}).events
    )
    revised = article_stream.plan(
        state, reading([kept, make_claim(value=44)], content="sha256:2"), {}
    )
    assert revised.status == "revised"
    assert [e.type for e in revised.events] == ["ArticleRevised", "ClaimRetracted", "ClaimAsserted"]
    assert revised.events[1].data["reason"] == "gone_from_revision"
    assert revised.events[2].data["claim"]["value"] == 44
    assert (revised.asserted, revised.retracted) == (1, 1)


def test_new_extractor_on_same_text_retracts_as_reextraction() -> None:
    start = article_stream.ArticleState("article-a1")
    state = apply(start, article_stream.plan(start, reading([make_claim(value=20)]), {}).events)
    plan = article_stream.plan(state, reading([], extractor="x2"), {})
    assert [e.type for e in plan.events] == ["ArticleRevised", "ClaimRetracted"]
    assert plan.events[1].data["reason"] == "reextraction"


def test_builders_refuse_unknown_values() -> None:
    with pytest.raises(ValueError, match="rank"):
        catalog.claim_ranked_data("c", "best", "why")
    with pytest.raises(ValueError, match="reason"):
        catalog.claim_ranked_data("c", "preferred", " ")
    with pytest.raises(ValueError, match="retraction reason"):
        catalog.claim_retracted_data("c", "because")
