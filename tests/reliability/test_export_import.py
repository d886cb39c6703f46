"""Export and restore: `factstore export` writes the whole log with its hashes; `factstore
import` into an empty store reproduces it exactly (ids, versions, positions, timestamps,
hashes), verifies, and rebuilds projections equal to the originals. A broken, truncated or
misplaced import writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factstore.store.database import create_store_engine
from factstore.store.errors import ImportRefused
from factstore.store.event_store import EventStore
from factstore.store.export import ExportFormatError, export_lines, read_export
from factstore.store.schema import upgrade
from factstore.store.verification import verify_log
from tests.conftest import Databases
from tests.reliability.conftest import (
    factstore,
    projection_snapshot,
    rebuilt_snapshot,
    write_history,
)


def _store(url: str) -> EventStore:
    return EventStore(create_store_engine(url))


def _export(store: EventStore) -> list[str]:
    return list(export_lines(store))


def test_cli_export_then_import_reproduces_the_log_and_projections(
    store: EventStore, databases: Databases, tmp_path: Path
) -> None:
    runner = write_history(store)
    original_events = store.read_all(0, 100_000)
    original_projections = projection_snapshot(store.engine, runner)
    source_url = store.engine.url.render_as_string(hide_password=False)

    dump = tmp_path / "log.jsonl.gz"
    exported = factstore(source_url, "export", str(dump))
    assert exported.returncode == 0, exported.stderr
    assert f"exported {len(original_events)} events" in exported.stdout

    target_url = databases.migrated()
    imported = factstore(target_url, "import", str(dump))
    assert imported.returncode == 0, imported.stderr
    assert f"imported {len(original_events)} events" in imported.stdout
    verified = factstore(target_url, "verify")
    assert verified.returncode == 0, verified.stderr

    target = _store(target_url)
    try:
        assert target.read_all(0, 100_000) == original_events
        assert target.head() == store.head()
        # import rebuilt the projections; they equal the ones kept incrementally on the source
        assert projection_snapshot(target.engine, runner) == original_projections
        # and the target exports byte for byte the same file
        assert _export(target) == _export(store)
    finally:
        target.engine.dispose()


def test_sqlite_to_postgresql_to_sqlite_round_trip(
    postgres_only: None, store: EventStore, tmp_path: Path
) -> None:
    """Runs in the PostgreSQL run of the suite: `store` is PostgreSQL there, and the two SQLite
    stores are temporary files."""
    first_url = f"sqlite:///{tmp_path / 'first.db'}"
    last_url = f"sqlite:///{tmp_path / 'last.db'}"
    stores = []
    for url in (first_url, last_url):
        engine = create_store_engine(url)
        upgrade(engine)
        stores.append(EventStore(engine))
    first, last = stores
    try:
        runner = write_history(first)
        original_events = first.read_all(0, 100_000)
        original_projections = projection_snapshot(first.engine, runner)
        original_export = _export(first)

        assert store.import_log(read_export(original_export)) == len(original_events)
        assert store.read_all(0, 100_000) == original_events
        assert verify_log(store).ok
        postgres_export = _export(store)
        assert postgres_export == original_export

        last.import_log(read_export(postgres_export))
        assert last.read_all(0, 100_000) == original_events
        assert verify_log(last).ok
        assert rebuilt_snapshot(last) == original_projections
    finally:
        for made in stores:
            made.engine.dispose()


def test_import_refuses_a_store_that_is_not_empty(store: EventStore, databases: Databases) -> None:
    write_history(store)
    lines = _export(store)
    target = _store(databases.migrated())
    try:
        target.import_log(read_export(lines))
        head = target.head()
        with pytest.raises(ImportRefused, match="not empty"):
            target.import_log(read_export(lines))
        assert target.head() == head
    finally:
        target.engine.dispose()


def _changed(lines: list[str], index: int, **fields: object) -> list[str]:
    record = json.loads(lines[index])
    record.update(fields)
    return [*lines[:index], json.dumps(record), *lines[index + 1 :]]


DAMAGES = {
    # an altered figure deep in the file: its hash no longer holds
    "tampered": (lambda ls: _changed(ls, -3, data={"tampered": True}), ImportRefused),
    # an event dropped from the middle: a position is missing
    "gap": (lambda ls: ls[:5] + ls[6:], ImportRefused),
    # the last events and the closing line cut off: still a valid chain, but truncated
    "truncated": (lambda ls: ls[:-4], ExportFormatError),
    # a closing line that claims fewer events than were read
    "wrong-count": (lambda ls: [*ls[:-2], ls[-1]], ExportFormatError),
    "no-header": (lambda ls: ["not json", *ls[1:]], ExportFormatError),
    "after-end": (lambda ls: [*ls, "{}"], ExportFormatError),
    "bad-type": (lambda ls: _changed(ls, 3, position="4"), ExportFormatError),
    # a JSON escape of half a surrogate pair: valid JSON, not text (no hash can cover it)
    "lone-surrogate": (lambda ls: _changed(ls, -3, stream_id="s\udc00"), ExportFormatError),
}


def test_a_damaged_export_writes_nothing(store: EventStore, databases: Databases) -> None:
    write_history(store)
    lines = _export(store)
    target = _store(databases.migrated())
    try:
        for name, (damage, error) in DAMAGES.items():
            with pytest.raises(error):
                # small batches: several are written before the damage is reached
                target.import_log(read_export(damage(lines)), batch_size=3)
            assert target.head_position() == 0, name
            assert target.read_all(0, 10) == [], name
        assert target.import_log(read_export(lines)) == len(lines) - 2  # the intact one goes in
    finally:
        target.engine.dispose()


def test_cli_import_errors_are_one_line(database_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"format": "something-else"}\n')
    result = factstore(database_url, "import", str(broken))
    assert result.returncode == 1
    assert result.stderr.startswith("factstore: error: ") and result.stderr.count("\n") == 1
    assert "not a factstore export" in result.stderr
