"""SQLite when the disk fills up or turns read-only: a clear error, nothing half-written, and
afterwards `PRAGMA integrity_check` and `factstore verify` pass and writing works again.

A real full disk and a real read-only file system are a small tmpfs mounted here (needs root;
skipped otherwise). The API's answer is shown with `PRAGMA max_page_count`, SQLite's own way
to cap a database file, which gives the same SQLITE_FULL error."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.verification import verify_log
from tests.reliability.conftest import AUTH, SEEDS, factstore
from tests.reliability.test_crash_recovery import article

ARTICLES = 400


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def small_disk(sqlite_only: None, tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs, unmounted at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_full_disk_then_read_only_disk(small_disk: Path, tmp_path: Path) -> None:
    database = small_disk / "factstore.db"
    url = f"sqlite:///{database}"
    assert factstore(url, "db", "upgrade").returncode == 0
    seeded = factstore(url, "ingest", str(SEEDS))
    assert seeded.returncode == 0, seeded.stderr
    digest = factstore(url, "digest").stdout.strip()

    big = tmp_path / "big.jsonl"  # more than 512 KiB of events
    big.write_text("".join(json.dumps(article(f"big-{n}", n)) + "\n" for n in range(ARTICLES)))
    full = factstore(url, "ingest", "-q", "--batch-size", "100", str(big))
    assert full.returncode == 1
    assert full.stderr == "factstore: error: database error: database or disk is full\n"
    assert integrity(database) == "ok"
    verified = factstore(url, "verify")
    assert verified.returncode == 0, verified.stderr
    # whole batches went in or none: every stored article has all its events
    store = EventStore(create_store_engine(url))
    try:
        versions = store.stream_versions({f"article-big-{n}" for n in range(ARTICLES)})
        assert set(versions.values()) <= {4}
        assert verify_log(store).events_checked == int(digest.rsplit("@", 1)[1]) + 4 * len(versions)
    finally:
        store.engine.dispose()

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    small = tmp_path / "small.jsonl"
    small.write_text("".join(json.dumps(article(f"more-{n}", n)) + "\n" for n in range(20)))
    read_only = factstore(url, "ingest", str(small))
    assert read_only.returncode == 1
    assert read_only.stderr.startswith("factstore: error: database error: ")
    assert read_only.stderr.count("\n") == 1

    subprocess.run(["mount", "-o", "remount,rw,size=64m", str(small_disk)], check=True)
    assert integrity(database) == "ok"
    assert factstore(url, "verify", "--digest", digest).returncode == 0
    again = factstore(url, "ingest", "-q", str(small))
    assert again.returncode == 0, again.stderr
    assert factstore(url, "verify").returncode == 0


@pytest.fixture
def capped_app(sqlite_only: None, app: Flask) -> Flask:
    """The API over a SQLite file capped at its current size plus a few pages."""
    engine = app.extensions["factstore"].store.engine
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 8}")

    return app


def test_api_answers_507_when_the_database_is_full(capped_app: Flask) -> None:
    client: FlaskClient = capped_app.test_client()
    statuses = []
    for n in range(60):
        body = article(f"cap-{n}", n)
        body["source_id"] = body.pop("id")
        body["text"] += " " + "Padding without figures. " * 400
        response = client.post("/v1/articles", json=body, headers=AUTH)
        statuses.append(response.status_code)
        if response.status_code == 507:
            problem = response.get_json()
            assert response.mimetype == "application/problem+json"
            assert problem["detail"].startswith("the database is out of space; retry")
            break
        assert response.status_code == 201, response.get_json()
    assert statuses[-1] == 507
    store = capped_app.extensions["factstore"].store
    assert verify_log(store).ok
    path = Path(store.engine.url.database or "")
    assert integrity(path) == "ok"
    # The refused article is whole or absent: its append is all or nothing (here the append
    # may fit and the projection update after it not; the projections catch up later).
    assert store.stream_version(f"article-cap-{len(statuses) - 1}") in (None, 4)
