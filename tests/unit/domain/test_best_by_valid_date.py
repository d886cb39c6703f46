"""`best_by_valid_date` (the step line of the topic page's chart) says what `decide` says for
every date, in one sweep."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from factstore.domain.figures import PolicyConfig, best_by_valid_date, decide
from tests.factories import make_view

DATES = [None, "2017-01-10", "2017-02-10", "2017-03-10"]
claims = st.lists(
    st.tuples(
        st.integers(0, 5000),
        st.sampled_from(["exact", "more_than", "up_to", "about"]),
        st.sampled_from(DATES),
        st.sampled_from(DATES),
        st.sampled_from([None, "UN", "police", "Amaq"]),
        st.sampled_from(["active", "active", "preferred", "deprecated", "retracted"]),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(claims=claims)
def test_best_by_valid_date_equals_decide_on_each_date(
    claims: list[tuple[int, str, str | None, str | None, str | None, str]],
) -> None:
    views = [
        make_view(
            f"c{n}",
            value=value,
            qualifier=qualifier,
            as_of=as_of,
            published_at=published,
            attributed_to=source,
            status=status,
            position=n + 1,
        )
        for n, (value, qualifier, as_of, published, source, status) in enumerate(claims)
    ]
    config = PolicyConfig()
    swept = best_by_valid_date(views, config)
    dates = sorted(
        {v.effective_date for v in views if v.status not in ("deprecated", "retracted")} - {None}
    )
    assert [day for day, _ in swept] == dates
    for day, best in swept:
        assert best == decide(views, config, day).best


def test_undated_claims_count_on_every_date() -> None:
    undated = make_view("u", value=50, as_of=None, published_at=None)
    dated = make_view("d", value=10, as_of=None, published_at="2017-02-01", position=2)
    assert best_by_valid_date([undated, dated]) == [("2017-02-01", dated)]
    assert best_by_valid_date([undated]) == []
