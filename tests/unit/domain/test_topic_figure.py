"""`TopicFigure` (the incremental policy the projection uses) always says what `decide` says."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from factstore.domain import figures
from factstore.domain.figures import (
    ClaimView,
    PolicyConfig,
    TopicFigure,
    decide,
    figure_summary,
)

DATES = [None, "2017-01-10", "2017-02-10", "2017-03-10", "2017-04-10"]
SOURCES = [None, "UN", "Iraqi army", "Amaq", "Lt Gen Yarallah", "police"]
QUALIFIERS = ["exact", "more_than", "at_least", "up_to", "about", "between"]
STATUSES = ["active", "preferred", "deprecated", "retracted", "withdrawn"]
CHANGES = ["preferred", "deprecated", "active", "retracted", "withdrawn"]
KINDS = ["total", "total", "incident", "current"]

add = st.tuples(
    st.just("add"),
    st.sampled_from(KINDS),
    st.integers(0, 3000),
    st.integers(0, 400),
    st.sampled_from(QUALIFIERS),
    st.sampled_from(DATES),
    st.sampled_from(SOURCES),
    st.sampled_from(["active", "active", "active", *STATUSES]),
)
change = st.tuples(st.just("status"), st.integers(0, 200), st.sampled_from(CHANGES))
operations = st.lists(st.one_of(add, add, change), min_size=1, max_size=60)
tolerances = st.sampled_from([0.10, 0.0, 0.5, 1.5])
# Few windows, many removals: what the window heaps are for.
crowded = st.lists(
    st.one_of(
        add.map(lambda op: (*op[:5], op[5] if op[5] in DATES[:2] else None, *op[6:])),
        change,
    ),
    min_size=1,
    max_size=60,
)


def view(number: int, op: tuple[Any, ...]) -> ClaimView:
    _, kind, value, spread, qualifier, as_of, source, status = op
    v = float(value)
    lower, upper = {
        "exact": (v, v),
        "more_than": (v, None),
        "at_least": (v, None),
        "up_to": (None, v),
        "about": (None, None),
        "between": (v, v + spread),
    }[qualifier]
    return ClaimView(
        claim_id=f"c{number}",
        topic="t",
        kind=kind,
        value=v,
        lower=lower,
        upper=upper,
        qualifier=qualifier,
        unit="count",
        as_of=as_of,
        published_at="2017-01-01",
        attributed_to=source,
        outlet="Wire" if number % 3 else None,
        article_id=f"a{number % 4}",
        status=status,
        position=10 * number + 7,
    )


def check(figure: TopicFigure, claims: dict[str, ClaimView], config: PolicyConfig) -> None:
    expected = decide(list(claims.values()), config)
    assert figure.summary() == (figure_summary(expected), expected.sources)
    # The whole decision too (competing claims, conflict texts, explanation): the projection
    # builds each topic's stored document from it.
    assert figure.decision() == expected
    assert figure.claims == claims


@settings(max_examples=400, deadline=None)
@given(operations=operations, tolerance=tolerances)
def test_topic_figure_equals_decide_after_every_change(
    operations: list[tuple[Any, ...]], tolerance: float
) -> None:
    replay_and_check(operations, tolerance)


@settings(max_examples=200, deadline=None)
@given(operations=crowded, tolerance=tolerances)
def test_window_heaps_give_the_same_figures(
    operations: list[tuple[Any, ...]], tolerance: float
) -> None:
    """Big windows keep heaps instead of rescanning on removal: force them on every window."""
    heap_from = figures._HEAP_FROM
    figures._HEAP_FROM = 0
    try:
        replay_and_check(operations, tolerance)
    finally:
        figures._HEAP_FROM = heap_from


def replay_and_check(operations: list[tuple[Any, ...]], tolerance: float) -> None:
    config = PolicyConfig(conflict_tolerance=tolerance)
    figure = TopicFigure(config)
    claims: dict[str, ClaimView] = {}
    for number, op in enumerate(operations):
        if op[0] == "add":
            claim = view(number, op)
            assert figure.add(claim)
            claims[claim.claim_id] = claim
        elif claims:
            claim_id = list(claims)[op[1] % len(claims)]
            status = op[2]
            changed = figure.set_status(claim_id, status)
            assert changed.status == status
            claims[claim_id] = changed
        check(figure, claims, config)


def test_a_known_claim_id_changes_nothing() -> None:
    figure = TopicFigure(PolicyConfig())
    first = view(1, ("add", "total", 10, 0, "exact", None, None, "active"))
    assert figure.add(first)
    assert not figure.add(first)
    assert len(figure) == 1


def test_irregular_figures_fall_back_to_decide() -> None:
    config = PolicyConfig()
    figure = TopicFigure(config)
    a = view(1, ("add", "total", 10, 0, "exact", None, None, "active"))
    b = view(2, ("add", "total", 10, 0, "exact", None, None, "active"))
    for claim in (
        a,
        ClaimView(**{**_fields(b), "value": -0.0, "lower": -0.0, "upper": -0.0}),
        ClaimView(**{**_fields(b), "claim_id": "nan", "value": math.nan, "position": 5}),
        ClaimView(**{**_fields(b), "claim_id": "dup", "position": a.position}),
    ):
        figure.add(claim)
    expected = decide(list(figure.claims.values()), config)
    got, sources = figure.summary()
    assert repr(got) == repr(figure_summary(expected)) and sources == expected.sources


def _fields(claim: ClaimView) -> dict[str, Any]:
    return claim._asdict()


def test_shared_strings_keep_the_claim_and_hold_one_copy_of_repeated_texts() -> None:
    def copied(text: str | None) -> str | None:  # a new object each time, as a driver returns
        return None if text is None else "".join(list(text))

    op = ("add", "total", 10, 0, "exact", "2017-01-10", "Lt Gen Yarallah", "active")
    a, b = (
        ClaimView(*(copied(f) if isinstance(f, str) else f for f in view(n, op))) for n in (1, 2)
    )
    assert a.outlet is not b.outlet and a.attributed_to is not b.attributed_to

    shared_a, shared_b = figures.with_shared_strings(a), figures.with_shared_strings(b)
    assert (shared_a, shared_b) == (a, b)
    for name in ("kind", "qualifier", "unit", "as_of", "published_at", "attributed_to", "outlet"):
        assert getattr(shared_a, name) is getattr(shared_b, name), name
    assert shared_a.claim_id != shared_b.claim_id
