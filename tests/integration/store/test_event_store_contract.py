"""The event store's contract. Every test here runs unchanged on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from factstore.domain.events import NewEvent, StreamState
from factstore.store.errors import EventIdReused, InvalidEvent, WrongExpectedVersion
from factstore.store.event_store import AppendRequest, EventStore
from factstore.store.hashing import GENESIS_HASH


def events(n: int, kind: str = "Happened", **data: object) -> list[NewEvent]:
    return [NewEvent(type=kind, data={"n": i, **data}) for i in range(n)]


def test_empty_store_has_nothing(store: EventStore) -> None:
    assert store.head_position() == 0
    assert store.read_all() == []
    assert store.read_stream("nothing-here") == []
    assert store.stream_version("nothing-here") is None


def test_append_assigns_versions_positions_and_hashes(store: EventStore) -> None:
    first = store.append("a", events(2), StreamState.NO_STREAM)
    second = store.append("b", events(1), StreamState.NO_STREAM)
    third = store.append("a", events(1), 2)

    assert [e.version for e in first.events] == [1, 2]
    assert [e.position for e in first.events + second.events + third.events] == [1, 2, 3, 4]
    assert third.events[0].version == 3
    assert first.events[0].prev_hash == GENESIS_HASH
    assert first.events[1].prev_hash == first.events[0].hash
    # The stream chain skips other streams; the log chain does not.
    assert third.events[0].prev_hash == first.events[1].hash
    assert second.events[0].prev_hash == GENESIS_HASH
    assert len({e.hash for e in first.events + second.events + third.events}) == 4
    assert store.head_position() == 4


def test_stored_event_reads_back_identical(store: EventStore) -> None:
    sent = NewEvent(
        type="ClaimAsserted",
        data={
            "value": 1.5,
            "nested": {"list": [1, "two", None, True]},
            "text": "Kokceli – “quoted”",
        },
        metadata={"actor": "analyst", "correlation_id": "c-1"},
        schema_version=3,
    )
    written = store.append("s", [sent]).events[0]
    read = store.read_stream("s")[0]
    assert read == written
    assert read.event_id == sent.event_id
    assert read.data == sent.data and read.metadata == sent.metadata
    assert read.schema_version == 3
    assert read.recorded_at.tzinfo is not None
    assert read.recorded_at.microsecond == written.recorded_at.microsecond


def test_unicode_and_large_payloads_round_trip(store: EventStore) -> None:
    big = "x" * 1_000_000
    rtl = "الموصل ‏(Mosul)‎ 👩‍👩‍👧 zero\u200bwidth \x00 nul"
    store.append("unicode-流-😀", [NewEvent("Big", {"big": big, "rtl": rtl})])
    [read] = store.read_stream("unicode-流-😀")
    assert read.data["big"] == big
    assert read.data["rtl"] == rtl


def test_wrong_expected_version_writes_nothing(store: EventStore) -> None:
    store.append("s", events(2), StreamState.NO_STREAM)
    with pytest.raises(WrongExpectedVersion) as caught:
        store.append("s", events(3), 1)
    assert caught.value.actual == 2
    with pytest.raises(WrongExpectedVersion):
        store.append("s", events(1), StreamState.NO_STREAM)
    with pytest.raises(WrongExpectedVersion) as missing:
        store.append("other", events(1), 4)
    assert missing.value.actual is None
    assert store.head_position() == 2
    assert store.stream_version("s") == 2


def test_any_accepts_every_state(store: EventStore) -> None:
    store.append("s", events(1), StreamState.ANY)
    store.append("s", events(1), StreamState.ANY)
    assert store.stream_version("s") == 2


def test_batch_is_all_or_nothing(store: EventStore) -> None:
    store.append("taken", events(1))
    with pytest.raises(WrongExpectedVersion):
        store.append_batch(
            [
                AppendRequest("fresh-1", events(2), StreamState.NO_STREAM),
                AppendRequest("taken", events(1), StreamState.NO_STREAM),
            ]
        )
    assert store.read_stream("fresh-1") == []
    assert store.head_position() == 1


def test_batch_appends_many_streams_in_order(store: EventStore) -> None:
    results = store.append_batch(
        [AppendRequest(f"s{i}", events(3), StreamState.NO_STREAM) for i in range(5)]
    )
    assert [e.position for r in results for e in r.events] == list(range(1, 16))
    assert all(r.version == 3 for r in results)


def test_identical_retry_is_idempotent(store: EventStore) -> None:
    batch = events(3)
    first = store.append("s", batch, StreamState.NO_STREAM)
    # The retry would fail the version check: the idempotency check comes first.
    again = store.append("s", batch, StreamState.NO_STREAM)
    assert not again.written and first.written
    assert again.events == first.events
    assert store.head_position() == 3


def test_reused_event_id_with_other_content_is_refused(store: EventStore) -> None:
    original = NewEvent("Happened", {"n": 1})
    store.append("s", [original])
    forged = NewEvent("Happened", {"n": 2}, event_id=original.event_id)
    with pytest.raises(EventIdReused, match="data"):
        store.append("s", [forged])
    with pytest.raises(EventIdReused, match="stream"):
        store.append("elsewhere", [original])
    with pytest.raises(EventIdReused, match="part of this append"):
        store.append("s", [original, NewEvent("Happened", {"n": 3})])
    assert store.head_position() == 1


def test_invalid_events_are_refused_before_writing(store: EventStore) -> None:
    with pytest.raises(InvalidEvent):
        store.append("s", [NewEvent("Bad", {"when": object()})])
    with pytest.raises(InvalidEvent):
        store.append("s", [NewEvent("Bad", {"x": float("nan")})])
    with pytest.raises(InvalidEvent):
        store.append("", events(1))
    with pytest.raises(InvalidEvent):
        store.append("s", [NewEvent("", {})])
    same = uuid.uuid4()
    with pytest.raises(InvalidEvent):
        store.append("s", [NewEvent("A", {}, event_id=same), NewEvent("B", {}, event_id=same)])
    # Lone surrogates (a JSON "\\ud800" decodes to one): no UTF-8, so no hash, can hold them.
    with pytest.raises(InvalidEvent, match=r"data of event 'Bad' is not Unicode text: .*\\ud800"):
        store.append("s", [*events(1), NewEvent("Bad", {"text": "a\ud800b"})])
    with pytest.raises(InvalidEvent, match="metadata"):
        store.append("s", [NewEvent("Bad", {}, metadata={"actor": "\udfff"})])
    with pytest.raises(InvalidEvent, match="stream id"):
        store.append("s\udc00", events(1))
    with pytest.raises(InvalidEvent, match="event type"):
        store.append("s", [NewEvent("Bad\ud83d", {})])
    assert store.head_position() == 0


def test_read_stream_ranges(store: EventStore) -> None:
    store.append("s", events(10))
    assert [e.version for e in store.read_stream("s", from_version=4)] == list(range(4, 11))
    assert [e.version for e in store.read_stream("s", 2, 5)] == [2, 3, 4, 5]
    assert store.read_stream("s", 11) == []
    assert [e.data["n"] for e in store.read_stream("s", 1, 1)] == [0]


def test_read_all_pages_in_position_order(store: EventStore) -> None:
    for i in range(7):
        store.append(f"s{i % 3}", events(3))
    seen = []
    after = 0
    while page := store.read_all(after, limit=4):
        assert len(page) <= 4
        seen.extend(page)
        after = page[-1].position
    assert [e.position for e in seen] == list(range(1, 22))
    assert [e.position for e in store.iter_all(batch_size=5)] == list(range(1, 22))
    assert store.read_all(21) == []


@pytest.mark.parametrize("statement", ["UPDATE events SET type = 'Forged'", "DELETE FROM events"])
def test_database_refuses_update_and_delete(store: EventStore, statement: str) -> None:
    store.append("s", events(2))
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert [e.type for e in store.read_stream("s")] == ["Happened", "Happened"]


def test_postgres_refuses_truncate(store: EventStore, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    store.append("s", events(1))
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE events"))
    assert store.head_position() == 1
