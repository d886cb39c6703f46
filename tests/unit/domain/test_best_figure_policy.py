"""The best-figure policy, rule by rule, on hand-made claims."""

from __future__ import annotations

from factstore.domain.figures import PolicyConfig, SourceTier, decide
from tests.factories import make_view


def test_no_claims_no_figure() -> None:
    assert decide([]).best is None
    assert decide([make_view(status="retracted")]).best is None


def test_latest_window_wins_and_dated_beats_undated() -> None:
    old = make_view("old", value=100, as_of="2017-01-01", attributed_to="UN")
    new = make_view("new", value=150, as_of="2017-02-01")
    undated = make_view("undated", value=999, as_of=None, attributed_to="UNHCR", position=9)
    assert decide([old, new, undated]).best == new
    assert decide([undated, old]).best == old


def test_within_a_window_authority_then_precision_then_later_report() -> None:
    article_voice = make_view("voice", value=1300, qualifier="more_than", position=1)
    commander = make_view("named", value=1321, attributed_to="Yarallah", position=2)
    assert decide([article_voice, commander]).best == commander

    army = make_view("army", value=50, attributed_to="Iraqi military")
    un = make_view("un", value=60, attributed_to="UN agencies", qualifier="about")
    assert decide([army, un]).best == un  # authority before precision

    exact = make_view("exact", value=10, position=1)
    bounded = make_view("bounded", value=10, qualifier="at_least", position=2)
    approx = make_view("approx", value=10, qualifier="about", position=3)
    assert decide([approx, bounded, exact]).best == exact

    first = make_view("first", value=10, position=1)
    later = make_view("later", value=12, position=2)
    assert decide([first, later]).best == later


def test_preferred_wins_its_window_but_not_a_later_one() -> None:
    strong = make_view("strong", value=10, attributed_to="UN")
    preferred = make_view("pref", value=8, status="preferred")
    assert decide([strong, preferred]).best == preferred
    newer = make_view("newer", value=20, as_of="2017-06-01")
    assert decide([strong, preferred, newer]).best == newer


def test_deprecated_and_retracted_never_win() -> None:
    good = make_view("good", value=5)
    for status in ("deprecated", "retracted", "withdrawn"):
        bad = make_view("bad", value=500, attributed_to="UN", status=status)
        decision = decide([good, bad])
        assert decision.best == good
        assert decision.sources == 1


def test_range_sources_and_agreement() -> None:
    more_than = make_view("a", value=1300, qualifier="more_than", article_id="x")
    exact = make_view("b", value=1321, attributed_to="Yarallah", article_id="x")
    decision = decide([more_than, exact])
    assert (decision.low, decision.high) == (1300, 1321)
    assert decision.sources == 2
    assert decision.competing == () and not decision.conflict


def test_same_window_disagreement_is_a_conflict() -> None:
    a = make_view("a", value=100, attributed_to="Health ministry")
    b = make_view("b", value=300, attributed_to="Rebels")
    decision = decide([a, b])
    assert decision.best == a
    assert [c.claim_id for c in decision.competing] == ["b"]
    assert decision.conflict and "disagree" in decision.conflicts[0]
    # Within the tolerance it is not a conflict.
    close = make_view("c", value=105, attributed_to="Rebels")
    assert not decide([a, close]).conflict
    assert decide([a, close], PolicyConfig(conflict_tolerance=0.01)).conflict


def test_a_total_that_goes_down_is_flagged() -> None:
    before = make_view("before", value=500, as_of="2017-01-01")
    after = make_view("after", value=300, as_of="2017-02-01")
    decision = decide([before, after])
    assert decision.best == after
    assert any("went down" in c for c in decision.conflicts)
    rising = make_view("rising", value=600, as_of="2017-02-01")
    assert not decide([before, rising]).conflict
    current = make_view("cur", value=300, as_of="2017-02-01", kind="current")
    assert not decide(
        [make_view("b", value=500, as_of="2017-01-01", kind="current"), current]
    ).conflict


def test_valid_at_limits_to_claims_about_that_date_or_earlier() -> None:
    jan = make_view("jan", value=100, as_of="2017-01-15")
    mar = make_view("mar", value=300, as_of="2017-03-15")
    assert decide([jan, mar], valid_at="2017-02-01").best == jan
    assert decide([jan, mar], valid_at="2016-12-31").best is None
    undated_published_late = make_view("u", value=1, as_of=None, published_at="2017-06-01")
    assert decide([undated_published_late], valid_at="2017-02-01").best is None


def test_source_ranking_is_configurable() -> None:
    ministry = make_view("m", value=10, attributed_to="Ministry of Health")
    monitor = make_view("o", value=12, attributed_to="Syrian Observatory")
    assert decide([ministry, monitor]).best == monitor
    config = PolicyConfig.from_mapping(
        {"source_tiers": [{"name": "ministries", "score": 9, "patterns": ["ministry"]}]}
    )
    assert decide([ministry, monitor], config).best == ministry
    assert config.authority(monitor) == (1, "named_source")
    # Whole words only: "Hun" is not "UN".
    assert PolicyConfig().authority(make_view(attributed_to="Attila the Hun"))[1] == "named_source"
    assert isinstance(PolicyConfig().source_tiers[0], SourceTier)


def test_explanation_says_why() -> None:
    decision = decide([make_view("x", attributed_to="UNHCR", status="preferred")])
    text = " ".join(decision.explanation)
    assert "2017-05-10" in text and "preferred" in text and "UNHCR" in text and "exact" in text
