"""Projection runner guarantees: rebuild equals incremental, as-of reads equal a fresh replay,
and a crash between rows and checkpoint neither loses nor doubles an event."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from factstore.config import Settings
from factstore.domain.events import NewEvent
from factstore.projections import ArticlesProjection, FiguresProjection, default_runner, queries
from factstore.projections.documents import AsOf, encode_document
from factstore.projections.figures import WarmTopics, _BulkWriter
from factstore.projections.models import checkpoints_table, topics_table
from factstore.projections.runner import ProjectionRunner
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from tests.conftest import Databases
from tests.factories import (
    article_content,
    asserted,
    make_claim,
    ranked,
    retracted,
    withdrawn,
)
from tests.replay import replay_figures, snapshot

TOPICS = [
    {
        "topic": "total.killed.people.mosul",
        "measure": "killed",
        "subject": "people",
        "place": "mosul",
        "kind": "total",
    },
    {
        "topic": "total.displaced.people.mosul",
        "measure": "displaced",
        "subject": "people",
        "place": "mosul",
        "kind": "total",
    },
    {
        "topic": "current.trapped.people.mosul-old-city",
        "measure": "trapped",
        "subject": "people",
        "place": "mosul-old-city",
        "kind": "current",
    },
]
DATES = [None, "2017-01-10", "2017-02-10", "2017-03-10"]
SOURCES = [None, "UN", "Iraqi army", "Amaq", "Lt Gen Yarallah"]
QUALIFIERS = ["exact", "more_than", "at_least", "up_to", "about"]

operation = st.one_of(
    st.tuples(
        st.just("assert"),
        st.integers(0, len(TOPICS) - 1),
        st.integers(1, 2000),
        st.sampled_from(QUALIFIERS),
        st.sampled_from(DATES),
        st.sampled_from(SOURCES),
        st.integers(0, 3),
    ),
    st.tuples(st.just("retract"), st.integers(0, 50)),
    st.tuples(
        st.just("rank"), st.integers(0, 50), st.sampled_from(["preferred", "deprecated", "normal"])
    ),
    st.tuples(st.just("withdraw"), st.integers(0, 3)),
    st.tuples(
        st.just("publish"),
        st.integers(0, 3),
        # Text as the API takes it: no NUL, no lone surrogate.
        st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), min_size=1),
        st.integers(1, 2),
    ),
)


def write_history(store: EventStore, operations: list[tuple[Any, ...]]) -> None:
    claim_ids: list[tuple[str, str]] = []  # (claim id, stream)
    published: set[str] = set()
    for number, op in enumerate(operations):
        if op[0] == "assert":
            _, topic_index, value, qualifier, as_of, source, article = op
            meta = TOPICS[topic_index]
            claim = make_claim(
                value=value, qualifier=qualifier, as_of=as_of, attributed_to=source, **meta
            )
            claim_id = f"00000000-0000-0000-0000-{number:012d}"
            stream = f"article-a{article}"
            store.append(stream, [asserted(claim_id, claim, article_id=f"a{article}")])
            claim_ids.append((claim_id, stream))
        elif op[0] in ("retract", "rank") and claim_ids:
            claim_id, stream = claim_ids[op[1] % len(claim_ids)]
            event = retracted(claim_id) if op[0] == "retract" else ranked(claim_id, op[2])
            store.append(stream, [event])
        elif op[0] == "withdraw":
            store.append(f"article-a{op[1]}", [withdrawn(f"a{op[1]}")])
        elif op[0] == "publish":  # the first text of an article, later ones revise it
            _, article, body, schema = op
            stream = f"article-a{article}"
            revised = stream in published
            published.add(stream)
            store.append(
                stream,
                [article_content(f"a{article}", body, revised=revised, schema_version=schema)],
            )


def assert_stored_documents_are_current(engine: Engine) -> None:
    """Each topic's stored document is the one the read side builds from its claims now."""
    with engine.connect() as conn:
        rows = conn.execute(select(topics_table)).mappings().all()
        for row in rows:
            views = queries.topic_views(conn, row["topic"], AsOf())
            document = queries.figure_from_views(conn, row, views, AsOf())
            assert document is not None
            assert row["document_json"] == encode_document(document)


def apply_in_random_batches(runner: ProjectionRunner, seed: int) -> None:
    rng = random.Random(seed)
    while any(runner.step(name, rng.randint(1, 7)) for name in runner.projections):
        pass


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=40), seed=st.integers(0, 10**6))
def test_rebuild_equals_incremental_and_as_of_equals_replay(
    databases: Databases, operations: list[tuple[Any, ...]], seed: int
) -> None:
    engine = create_store_engine(databases.migrated())
    try:
        store = EventStore(engine)
        runner = default_runner(store)
        write_history(store, operations)
        apply_in_random_batches(runner, seed)
        tables = [t for p in runner.projections.values() for t in p.tables]
        incremental = snapshot(engine, tables)
        for name in runner.projections:
            runner.rebuild(name)
        assert snapshot(engine, tables) == incremental
        assert_stored_documents_are_current(engine)

        events = store.read_all(0, 10_000)
        rng = random.Random(seed)
        for cut in {0, len(events), *(rng.randint(0, len(events)) for _ in range(4))}:
            valid_at = rng.choice([None, "2017-02-15"])
            expected = replay_figures(events[:cut], valid_at)
            for topic, summary in expected.items():
                document = queries.topic_figure(engine, topic, known_at=cut, valid_at=valid_at)
                assert document is not None
                got = document["figure"]
                if summary is None:
                    assert got is None
                else:
                    assert got is not None
                    assert got["provenance"]["claim_id"] == summary["claim_id"]
                    assert (got["value"], got["low"], got["high"], got["conflict"]) == (
                        summary["value"],
                        summary["low"],
                        summary["high"],
                        summary["conflict"],
                    )
            # Topics with no claim yet at the cut do not exist then.
            items, total, _ = queries.list_topics(engine, known_at=cut, limit=100)
            assert {i["topic"] for i in items} == set(expected) and total == len(expected)
    finally:
        engine.dispose()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=15, max_size=50), seed=st.integers(0, 10**6))
def test_warm_topics_shared_by_runners_that_fail_equal_a_rebuild(
    databases: Databases, operations: list[tuple[Any, ...]], seed: int
) -> None:
    """Three runners (three API workers, say), each keeping every topic warm, take turns in
    random batches on one store, and one batch in four fails after its rows are written (a
    failed commit): a warm topic is then stale or ahead of its row, and must be caught up or
    dropped. The tables must still be what a rebuild writes."""
    engine = create_store_engine(databases.migrated())
    rng = random.Random(seed)
    real = ProjectionRunner.write_checkpoint

    def sometimes_fail(conn: Any, name: str, position: int) -> None:
        if rng.random() < 0.25:
            raise RuntimeError("the commit failed")
        real(conn, name, position)

    try:
        store = EventStore(engine)
        runners = [
            ProjectionRunner(
                store, [ArticlesProjection(), FiguresProjection(warm=WarmTopics(min_claims=0))]
            )
            for _ in range(3)
        ]
        write_history(store, operations)
        ProjectionRunner.write_checkpoint = staticmethod(sometimes_fail)  # type: ignore[method-assign]
        try:
            for _ in range(300):
                try:
                    if not rng.choice(runners).step("figures", rng.randint(1, 7)):
                        break  # at the head
                except RuntimeError:
                    pass
        finally:
            ProjectionRunner.write_checkpoint = staticmethod(real)  # type: ignore[method-assign]
        runners[0].catch_up()
        tables = list(runners[0].projections["figures"].tables)  # type: ignore[attr-defined]
        incremental = snapshot(engine, tables)
        runners[0].rebuild("figures")
        assert snapshot(engine, tables) == incremental
        assert_stored_documents_are_current(engine)
    finally:
        engine.dispose()


def test_a_warm_topic_is_caught_up_after_another_runner_wrote_it(store: EventStore) -> None:
    def warm_runner() -> ProjectionRunner:
        figures = FiguresProjection(warm=WarmTopics(min_claims=0))
        return ProjectionRunner(store, [ArticlesProjection(), figures])

    first, second = warm_runner(), warm_runner()
    topic = TOPICS[0]

    def claim(number: int, value: int, as_of: str | None) -> None:
        made = make_claim(value=value, qualifier="exact", as_of=as_of, **topic)
        event = asserted(f"00000000-0000-0000-0000-{number:012d}", made, article_id=f"a{number}")
        store.append(f"article-a{number}", [event])

    claim(1, 100, None)
    first.catch_up()
    claim(2, 900, "2017-03-10")
    second.catch_up()  # `first` holds the topic as of the first claim
    store.append("article-a2", [retracted("00000000-0000-0000-0000-000000000002")])
    claim(3, 50, "2017-01-10")
    first.catch_up()  # reads the second claim, applies the retraction and the third
    warm = first.projections["figures"].warm  # type: ignore[attr-defined]
    assert warm.used == 1 and len(warm) == 1
    document = queries.topic_figure(store.engine, topic["topic"])
    assert document is not None and document["figure"]["value"] == 50  # 900 was retracted
    tables = list(first.projections["figures"].tables)  # type: ignore[attr-defined]
    incremental = snapshot(store.engine, tables)
    first.rebuild("figures")
    assert snapshot(store.engine, tables) == incremental
    assert_stored_documents_are_current(store.engine)


def test_warm_topics_are_bounded_and_keep_big_topics_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from factstore.domain.figures import PolicyConfig, TopicFigure
    from tests.unit.domain.test_topic_figure import view

    def figure_of(size: int) -> TopicFigure:
        figure = TopicFigure(PolicyConfig())
        for n in range(size):
            figure.add(view(n, ("add", "total", n, 0, "exact", None, None, "active")))
        return figure

    warm = WarmTopics(max_claims=10, min_claims=3)
    warm.keep("small", figure_of(2), 5)
    assert len(warm) == 0
    warm.keep("a", figure_of(4), 5)
    warm.keep("b", figure_of(4), 6)
    warm.keep("c", figure_of(4), 7)  # 12 claims: the least recently kept goes
    assert warm.take("a", 100) is None
    assert warm.take("b", 5) is None  # its row says an earlier position: never used, dropped
    assert warm.take("b", 6) is None  # (and gone)
    taken = warm.take("c", 9)
    assert taken is not None and taken[1] == 7 and len(taken[0]) == 4
    assert len(warm) == 0
    monkeypatch.setenv("FACTSTORE_WARM_CLAIMS", "0")  # off
    off = WarmTopics(Settings.from_env().warm_claims, min_claims=0)
    off.keep("a", figure_of(4), 5)
    assert len(off) == 0


def test_rebuild_holding_few_claims_back_equals_incremental(
    store: EventStore, runner: ProjectionRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild holds claim rows back to fold later status changes into them; with room for
    two, most changes hit claims already written (UPDATEs) and the rest held ones."""
    rng = random.Random(4)
    operations: list[tuple[Any, ...]] = []
    for number in range(60):
        operations.append(
            ("assert", number % 3, rng.randint(1, 900), "exact", None, None, number % 7)
        )
        if number % 4 == 3:
            operations.append(("retract", rng.randint(0, number)))
        if number % 5 == 4:
            operations.append(("rank", rng.randint(0, number), "preferred"))
    operations.append(("withdraw", 2))
    write_history(store, operations)
    runner.catch_up(batch_size=7)
    tables = [t for p in runner.projections.values() for t in p.tables]
    incremental = snapshot(store.engine, tables)
    assert len({row[0] for row in incremental["claim_status_changes"]}) > 20
    monkeypatch.setattr(_BulkWriter, "HELD_CLAIMS", 2)
    runner.rebuild("figures", batch_size=7)
    assert snapshot(store.engine, tables) == incremental
    assert_stored_documents_are_current(store.engine)


def test_rebuild_of_seeds_equals_incremental(seeded: EventStore, runner: ProjectionRunner) -> None:
    tables = [t for p in runner.projections.values() for t in p.tables]
    incremental = snapshot(seeded.engine, tables)
    assert incremental["claims"] and incremental["figure_history"]
    for name in runner.projections:
        runner.rebuild(name)
    assert snapshot(seeded.engine, tables) == incremental
    assert_stored_documents_are_current(seeded.engine)
    if seeded.backend == "postgresql":  # statistics are fresh: ANALYZE counted every row
        with seeded.engine.connect() as conn:
            for table in tables:
                estimate = conn.execute(
                    text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                    {"name": table.name},
                ).scalar_one()
                assert estimate == len(incremental[table.name]), table.name


def test_a_crash_before_the_checkpoint_loses_and_doubles_nothing(
    seeded: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = default_runner(seeded)
    tables = [t for p in runner.projections.values() for t in p.tables]
    expected = snapshot(seeded.engine, tables)
    # Start over from empty projections, and crash on the third checkpoint write.
    with seeded.engine.begin() as conn:
        for table in [*reversed(tables), checkpoints_table]:
            conn.execute(table.delete())
    fresh = default_runner(seeded)

    calls = {"n": 0}
    real = ProjectionRunner.write_checkpoint

    def crash_on_third(conn: Any, name: str, position: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed between rows and checkpoint")
        real(conn, name, position)

    monkeypatch.setattr(ProjectionRunner, "write_checkpoint", staticmethod(crash_on_third))
    with pytest.raises(RuntimeError, match="killed"):
        fresh.catch_up(batch_size=5)
    monkeypatch.setattr(ProjectionRunner, "write_checkpoint", staticmethod(real))
    fresh.catch_up(batch_size=5)
    assert snapshot(seeded.engine, tables) == expected
    assert all(lag.lag == 0 for lag in fresh.lags())


def test_inline_catch_up_commits_both_projections_together_or_neither(
    store: EventStore, runner: ProjectionRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a write, one transaction brings every projection up to date: when the second
    fails, the first one's batch is rolled back with it, and the next catch-up applies both."""
    claim = make_claim(value=1321, qualifier="exact", as_of=None, **TOPICS[0])
    store.append("article-a1", [asserted("00000000-0000-0000-0000-000000000001", claim)])
    assert list(runner.projections) == ["articles", "figures"]  # figures comes second
    figures = runner.projections["figures"]
    real_apply = figures.apply

    def fail(conn: Any, events: Any) -> None:
        raise RuntimeError("the figures batch failed")

    monkeypatch.setattr(figures, "apply", fail)
    with pytest.raises(RuntimeError, match="figures batch failed"):
        runner.catch_up()
    assert {lag.name: lag.checkpoint for lag in runner.lags()} == {"articles": 0, "figures": 0}
    monkeypatch.setattr(figures, "apply", real_apply)
    assert runner.catch_up() == 2  # the one event, once for each projection
    assert all(lag.lag == 0 for lag in runner.lags())
    with pytest.raises(KeyError, match="no such projection: nope"):
        runner.catch_up(["nope"])


def test_unknown_claim_references_change_nothing(
    store: EventStore, runner: ProjectionRunner
) -> None:
    store.append("article-x", [retracted("no-such-claim"), NewEvent("SomethingElse", {"x": 1})])
    assert runner.catch_up() == 4  # two events, two projections
    items, total, _ = queries.list_topics(store.engine)
    assert (items, total) == ([], 0)


def test_source_scores_kept_between_batches_are_bounded(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("factstore.projections.figures._AUTHORITY_KEPT", 3)
    figures = FiguresProjection(warm=WarmTopics(min_claims=0))
    runner = ProjectionRunner(store, [ArticlesProjection(), figures])
    sizes = []
    for number, source in enumerate(["UN", "police", "Amaq", "Lt Gen Yarallah", "OCHA", "UN"], 1):
        made = make_claim(value=100 + number, attributed_to=source, **TOPICS[0])
        event = asserted(f"00000000-0000-0000-0000-{number:012d}", made, article_id=f"a{number}")
        store.append(f"article-a{number}", [event])
        runner.catch_up()
        sizes.append(len(figures._authority))
    assert max(sizes) == 4 and sizes[-1] < 4  # one past the bound, then cleared
    tables = list(figures.tables)
    incremental = snapshot(store.engine, tables)
    runner.rebuild("figures")
    assert snapshot(store.engine, tables) == incremental  # the warm topic scored its claims again
