"""Gap-safe global order under concurrent writers: a follower tailing read_all(after=p) while
8 writers append 2,000 events each must see every event exactly once, in position order."""

from __future__ import annotations

import random
import threading
import time
import uuid

from factstore.domain.events import NewEvent, StreamState
from factstore.store.errors import WrongExpectedVersion
from factstore.store.event_store import EventStore

WRITERS = 8
EVENTS_PER_WRITER = 2_000


def test_follower_sees_every_event_once_and_in_order(store: EventStore) -> None:
    written: list[set[uuid.UUID]] = [set() for _ in range(WRITERS)]
    errors: list[BaseException] = []
    writers_done = threading.Event()

    def write(index: int) -> None:
        rng = random.Random(index)
        remaining = EVENTS_PER_WRITER
        try:
            while remaining:
                size = min(remaining, rng.randint(1, 8))
                batch = [
                    NewEvent("Tick", {"writer": index, "n": remaining - i}) for i in range(size)
                ]
                # Writers share streams, so appends also race on the same stream.
                store.append(f"stream-{rng.randrange(20)}", batch, StreamState.ANY)
                written[index].update(e.event_id for e in batch)
                remaining -= size
        except BaseException as error:  # surfaced by the main thread
            errors.append(error)

    seen: list[uuid.UUID] = []
    positions: list[int] = []

    def follow() -> None:
        after = 0
        deadline = time.monotonic() + 300
        try:
            while time.monotonic() < deadline:
                page = store.read_all(after, limit=500)
                for event in page:
                    positions.append(event.position)
                    seen.append(event.event_id)
                if page:
                    after = page[-1].position
                elif writers_done.is_set() and after == store.head_position():
                    return
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    follower = threading.Thread(target=follow)
    follower.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writers_done.set()
    follower.join()

    assert not errors, errors
    total = WRITERS * EVENTS_PER_WRITER
    all_written = set().union(*written)
    assert len(all_written) == total
    # Exactly once, and the positions it saw are 1..N with no gap and no reordering.
    assert len(seen) == total
    assert set(seen) == all_written
    assert positions == list(range(1, total + 1))
    # Per-stream versions stayed dense despite the races.
    for stream in {f"stream-{i}" for i in range(20)}:
        versions = [e.version for e in store.read_stream(stream)]
        assert versions == list(range(1, len(versions) + 1))


def test_racing_writers_with_exact_versions_one_wins_each_round(store: EventStore) -> None:
    store.append("contested", [NewEvent("Start", {})], StreamState.NO_STREAM)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def race(index: int) -> None:
        barrier.wait()
        try:
            store.append("contested", [NewEvent("Edit", {"by": index})], 1)
            outcomes.append("won")
        except WrongExpectedVersion:
            outcomes.append("conflict")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["won"]
    assert store.stream_version("contested") == 2
