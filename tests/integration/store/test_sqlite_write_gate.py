"""SQLite writers queue at a gate (a thread lock, then flock on a sidecar file) before BEGIN
IMMEDIATE, so a waiting writer starts the moment the holder is done instead of sleeping in
SQLite's busy handler; on PostgreSQL the gate is nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from factstore.domain.events import NewEvent
from factstore.store.database import write_gate
from factstore.store.event_store import EventStore

HOLD_SECONDS = 1.0


def _event(n: int) -> NewEvent:
    return NewEvent(type="Noted", data={"n": n})


def test_an_append_in_another_process_waits_for_the_gate_then_lands(
    store: EventStore, database_url: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL queues its own lock waiters; the gate is SQLite's")
    child = textwrap.dedent(
        f"""
        import time
        from factstore.domain.events import NewEvent
        from factstore.store.database import create_store_engine
        from factstore.store.event_store import EventStore
        store = EventStore(create_store_engine({database_url!r}))
        print("ready", flush=True)
        began = time.monotonic()
        store.append("gate-child", [NewEvent(type="Noted", data={{"n": 1}})])
        print(f"{{time.monotonic() - began:.3f}}", flush=True)
        """
    )
    with write_gate(store.engine):
        process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(HOLD_SECONDS)
        # Held: the child is queued at the gate, so nothing of it is in the log yet.
        assert store.read_stream("gate-child") == []
    waited = float(process.stdout.readline())
    assert process.wait(timeout=30) == 0
    assert waited >= HOLD_SECONDS * 0.8
    assert [e.data for e in store.read_stream("gate-child")] == [{"n": 1}]


def test_threads_of_one_process_take_turns_and_the_holder_may_reenter(
    store: EventStore, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the gate is SQLite's")
    inside = 0
    most_inside = 0
    lock = threading.Lock()

    def writer(n: int) -> None:
        nonlocal inside, most_inside
        with write_gate(store.engine):
            with lock:
                inside += 1
                most_inside = max(most_inside, inside)
            with write_gate(store.engine):  # re-entrant: an append inside a held gate
                store.append(f"gate-{n}", [_event(n)])
            time.sleep(0.01)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert most_inside == 1
    assert sorted(e.stream_id for e in store.read_all(0, 100)) == sorted(
        f"gate-{n}" for n in range(8)
    )
