"""Read-side shapes that matter to clients: bounded documents for huge topics."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from factstore.projections import queries
from factstore.projections.documents import COMPETING_SHOWN, AsOf, claim_rows
from factstore.projections.figures import claim_view_from_row
from factstore.projections.models import claims_table
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


def test_known_at_positions_of_any_length_mean_now_and_odd_digits_are_refused(
    store: EventStore, runner: ProjectionRunner
) -> None:
    store.append("article-a1", [asserted("c-1", make_claim(value=100))])
    runner.catch_up()
    topic = "total.killed.people.mosul"
    now = queries.topic_figure(store.engine, topic)
    # Past the head, however many digits (Python's int() refuses more than 4,300), or an int
    # no database integer holds: the same as now.
    for known_at in ("9" * 5000, "0" * 5000 + "1", 10**30, str(2**63)):
        document = queries.topic_figure(store.engine, topic, known_at=known_at)
        assert document is not None and document["figure"] == now["figure"], known_at
    for odd in ("\u00b2", "\u0663", "1e9", "-1"):  # digits to str.isdigit(), not positions
        with pytest.raises(queries.InvalidQuery, match="known_at must be"):
            queries.topic_figure(store.engine, topic, known_at=odd)


def test_driver_reads_return_what_sqlalchemy_returns(seeded: EventStore) -> None:
    """topic_views and claim_rows read through the driver, past SQLAlchemy's result rows: the
    same values of the same types, on every backend."""
    c = claims_table.c
    with seeded.engine.connect() as conn:
        rows = list(conn.execute(select(claims_table).order_by(c.asserted_position)).mappings())
        assert rows
        middle = rows[len(rows) // 2]["asserted_position"]
        for topic in {row["topic"] for row in rows}:
            for position in (None, middle):
                expected = [
                    claim_view_from_row(row)
                    for row in rows
                    if row["topic"] == topic
                    and (position is None or row["asserted_position"] <= position)
                ]
                views = queries.topic_views(conn, topic, AsOf(position))
                # Statuses as of a past position are the replay tests' (test_runner.py).
                assert [v._replace(status="") for v in views] == [
                    v._replace(status="") for v in expected
                ]
                assert [list(map(type, v)) for v in views] == [list(map(type, v)) for v in expected]
        read = claim_rows(conn, [row["claim_id"] for row in rows])
        assert read == {row["claim_id"]: dict(row) for row in rows}
        assert [{k: type(v) for k, v in read[row["claim_id"]].items()} for row in rows] == [
            {k: type(v) for k, v in row.items()} for row in rows
        ]


def test_sqlite_as_of_views_read_only_an_index(seeded: EventStore) -> None:
    """On SQLite every column topic_views reads is in ix_claims_topic_views, after the two it
    searches by, so the read never visits the claims' table rows (the plan says so)."""
    index = next(i for i in claims_table.indexes if i.name == "ix_claims_topic_views")
    columns = [column.name for column in index.columns]
    assert columns[:2] == ["topic", "asserted_position"]
    assert {column.name for column in queries._VIEW_COLUMNS} <= set(columns)
    if seeded.backend != "sqlite":
        return
    with seeded.engine.connect() as conn:
        sql = str(queries._TOPIC_VIEWS_KNOWN_AT.compile(conn))
        plan = " ".join(
            str(row[-1])
            for row in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {sql}", ("total.killed.people.mosul", 10)
            )
        )
    assert "COVERING INDEX ix_claims_topic_views" in plan, plan
