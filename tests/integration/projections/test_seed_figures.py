"""The worked examples of the best-figure policy, on the seed articles, on both databases."""

from __future__ import annotations

from typing import Any

from factstore.domain import catalog
from factstore.domain.events import NewEvent
from factstore.projections import queries
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore


def only_topic(store: EventStore, **filters: Any) -> str:
    items, _, _ = queries.list_topics(store.engine, **filters)
    assert len(items) == 1, [i["topic"] for i in items]
    return str(items[0]["topic"])


def test_mosul_displaced_later_un_figure_wins_with_both_in_history(seeded: EventStore) -> None:
    items, _, _ = queries.list_topics(seeded.engine, measure="displaced", place="mosul")
    [topic] = [i["topic"] for i in items if i["kind"] == "total"]
    figure = queries.topic_figure(seeded.engine, topic)
    assert figure is not None
    best = figure["figure"]
    assert (best["value"], best["qualifier"]) == (750_000, "at_least")
    provenance = best["provenance"]
    assert provenance["attributed_to"] == "UN"
    assert provenance["article"]["article_id"] == "004_348ec045e6fa3069"
    assert "750,000" in provenance["quote"]
    assert provenance["quote"] in provenance["sentence"]
    history = queries.topic_history(seeded.engine, topic)
    assert history is not None
    assert [(h["from"] or {}).get("value") for h in history] == [None, 91_000]
    assert [h["to"]["value"] for h in history] == [91_000, 750_000]
    assert history[0]["to"]["qualifier"] == "more_than"
    assert all(h["cause"]["event_type"] == "ClaimAsserted" for h in history)

    # Before article 004 was ingested, the store believed "more than 91,000".
    before_004 = history[1]["position"] - 1
    past = queries.topic_figure(seeded.engine, topic, known_at=before_004)
    assert past is not None
    assert (past["figure"]["value"], past["figure"]["qualifier"]) == (91_000, "more_than")
    assert queries.topic_history(seeded.engine, topic, known_at=before_004) == history[:1]


def test_named_exact_toll_beats_the_articles_rounder_figure(seeded: EventStore) -> None:
    topic = only_topic(
        seeded, measure="killed", subject="militants", place="mosul-west", search="total"
    )
    figure = queries.topic_figure(seeded.engine, topic)
    assert figure is not None
    best = figure["figure"]
    assert (best["value"], best["qualifier"]) == (1_321, "exact")
    assert best["provenance"]["attributed_to"] == "Yarallah"
    assert (best["low"], best["high"]) == (1_300, 1_321)
    assert not best["conflict"] and figure["competing"] == []
    assert figure["claims"] == 2


def test_cumulative_districts_are_never_replaced_by_an_incident(seeded: EventStore) -> None:
    items, _, _ = queries.list_topics(seeded.engine, measure="liberated", subject="districts")
    by_kind = {(i["kind"], i["place"]): i for i in items}
    total = by_kind[("total", "mosul-east")]
    assert total["figure"]["value"] == 40
    history = queries.topic_history(seeded.engine, total["topic"])
    assert history is not None
    assert all(h["to"]["value"] == 40 for h in history)
    six = [i for i in items if i["kind"] == "incident" and i["figure"]["value"] == 6]
    assert six and all(i["topic"] != total["topic"] for i in six)


def test_an_analyst_rank_changes_the_figure_and_is_recorded(
    seeded: EventStore, runner: ProjectionRunner
) -> None:
    items, _, _ = queries.list_topics(seeded.engine, measure="displaced", place="mosul")
    [topic] = [i["topic"] for i in items if i["kind"] == "total"]
    figure = queries.topic_figure(seeded.engine, topic)
    assert figure is not None
    un_claim = figure["figure"]["provenance"]
    stream = un_claim["article"]["stream_id"]
    seeded.append(
        stream,
        [
            NewEvent(
                catalog.CLAIM_RANKED,
                catalog.claim_ranked_data(un_claim["claim_id"], "deprecated", "double-counted"),
                metadata={"actor": "desk@example"},
            )
        ],
    )
    runner.catch_up()
    now = queries.topic_figure(seeded.engine, topic)
    assert now is not None and now["figure"]["value"] == 91_000
    history = queries.topic_history(seeded.engine, topic)
    assert history is not None
    assert history[-1]["cause"]["event_type"] == "ClaimRanked"
    assert history[-1]["cause"]["detail"] == "double-counted"
    claim = queries.get_claim(seeded.engine, un_claim["claim_id"])
    assert claim is not None and claim["status"] == "deprecated"
    assert claim["status_history"][0]["actor"] == "desk@example"
    # And the store still answers what it believed before the rank.
    past = queries.topic_figure(seeded.engine, topic, known_at=history[-1]["position"] - 1)
    assert past is not None and past["figure"]["value"] == 750_000


def test_valid_time_and_timestamps(seeded: EventStore) -> None:
    topic = only_topic(
        seeded, measure="killed", subject="militants", place="mosul-west", search="total"
    )
    early = queries.topic_figure(seeded.engine, topic, valid_at="2017-01-01")
    assert early is not None and early["figure"] is None  # nothing said about that date yet
    assert early["valid_at"] == "2017-01-01"
    # A timestamp resolves to the last position committed by then: the whole first append.
    first_article = seeded.read_stream("article-000_49eab6ef55a0f380")
    moment = first_article[0].recorded_at.isoformat()
    at_first = queries.topic_figure(seeded.engine, topic, known_at=moment)
    assert at_first is not None
    assert at_first["known_at_position"] == first_article[-1].position
    assert at_first["figure"]["value"] == 1_321


def test_lag_is_zero_after_inline_ingest(seeded: EventStore, runner: ProjectionRunner) -> None:
    assert {lag.name: lag.lag for lag in runner.lags()} == {"articles": 0, "figures": 0}
    article = queries.get_article(seeded.engine, "article-004_348ec045e6fa3069")
    assert article is not None and article["status"] == "active"
    assert article["version"] == seeded.stream_version("article-004_348ec045e6fa3069")
