"""The read replica for real: a PostgreSQL primary and a streaming replica of it (pg_basebackup
-R) on loopback ports, the API under gunicorn with FACTSTORE_READ_DATABASE_URL pointing at the
replica. Writes go to the primary; reads come from the replica; a client that asks for the
position of its own write gets it (from the primary while the replica lags) or a 503.

The test starts its OWN primary cluster (initdb into a temporary folder) instead of
replicating the suite's server: that server's pg_hba.conf does not accept replication
connections from loopback, and a base backup of it would copy every database on it. Both
clusters are stopped and deleted at the end. Runs on the PostgreSQL backend of the suite only;
skipped (with the reason printed) where the PostgreSQL server programs are missing, except in
CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from factstore.store.database import create_store_engine
from factstore.store.schema import upgrade
from factstore.tokens import hash_token
from tests.conftest import BACKEND
from tests.e2e.live_server import free_port, running_api

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql", reason="the read replica needs the PostgreSQL backend"
)

TOKEN = "fs_replica-test-token"
PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
WAIT_SECONDS = 30  # the longest any one step may take
MIN_POSITION_WAIT_MS = 300
ARTICLES = [
    {
        "source_id": "replica-1",
        "published_at": "2017-06-29",
        "text": "At least 20 civilians were killed in an air strike on Raqqa on Thursday, "
        "the Syrian Observatory said.",
    },
    {
        "source_id": "replica-2",
        "published_at": "2017-07-02",
        "text": "More than 40 civilians were killed in air strikes on Raqqa over the weekend, "
        "the Syrian Observatory said on Sunday.",
    },
]


def _server_programs() -> Path | None:
    """The folder with the PostgreSQL server programs: Debian's newest, else the folder the
    `postgres` on PATH really lives in (PATH may hold symlinks and wrappers from elsewhere)."""
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    server = shutil.which("postgres")
    if server:
        folders.append(Path(os.path.realpath(server)).parent)
    for folder in folders:
        if all((folder / name).exists() for name in PROGRAMS):
            return folder
    return None


def _version(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in folder.parent.name.split(".") if part.isdigit())


@dataclass
class Clusters:
    """Two PostgreSQL clusters in one temporary folder, run as the `postgres` user when the
    test runs as root (the server refuses to run as root)."""

    bin: Path
    root: Path
    as_user: list[str]
    primary_port: int = 0
    replica_port: int = 0

    def run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_user, str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS * 2,
        )
        assert done.returncode == 0, f"{program} failed: {done.stderr.strip()}"

    def start(self, data: Path, port: int) -> None:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(data), "-o", options, "-l", f"{data}.log", "-w", "-t",
                 str(WAIT_SECONDS), "start")  # fmt: skip

    def stop(self, data: Path) -> None:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, AssertionError):
                self.run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")

    def url(self, port: int) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


@pytest.fixture
def clusters() -> Iterator[Clusters]:
    programs = _server_programs()
    if programs is None:
        reason = f"PostgreSQL server programs ({', '.join(PROGRAMS)}) not found"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the read-replica test")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="factstore-replica-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    made = Clusters(programs, root, as_user)
    primary, replica = root / "primary", root / "replica"
    try:
        # initdb's pg_hba.conf trusts local and loopback connections, replication included.
        made.run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C", "--no-sync")  # fmt: skip
        made.primary_port = free_port()
        made.start(primary, made.primary_port)
        made.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(made.primary_port), "-U",
                 "postgres", "-D", str(replica), "-R", "-X", "stream", "--checkpoint=fast",
                 "--no-sync")  # fmt: skip
        made.replica_port = free_port()
        made.start(replica, made.replica_port)
        yield made
    finally:
        made.stop(replica)
        made.stop(primary)
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class Reply:
    status: int
    position: int | None
    body: Any


@dataclass(frozen=True)
class Api:
    base: str

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {TOKEN}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
                status, found, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, found, raw = error.code, error.headers, error.read()
        position = found.get("Factstore-Position")
        return Reply(status, None if position is None else int(position), json.loads(raw))


@pytest.fixture
def api(clusters: Clusters, tmp_path: Path) -> Iterator[Api]:
    primary = clusters.url(clusters.primary_port)
    engine = create_store_engine(primary)
    upgrade(engine)
    engine.dispose()
    env = {
        "FACTSTORE_DATABASE_URL": primary,
        "FACTSTORE_READ_DATABASE_URL": clusters.url(clusters.replica_port),
        "FACTSTORE_MIN_POSITION_WAIT_MS": str(MIN_POSITION_WAIT_MS),
        "FACTSTORE_API_TOKENS": f"desk:{hash_token(TOKEN)}",
    }
    with running_api(env, tmp_path / "server.log") as base:
        yield Api(base)


def _until(check: Any, failure: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, failure
        time.sleep(0.1)


def _on_replica(clusters: Clusters, sql: str) -> Any:
    engine = create_engine(clusters.url(clusters.replica_port), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_reads_come_from_the_replica_and_min_position_reads_your_writes(
    clusters: Clusters, api: Api
) -> None:
    assert _on_replica(clusters, "SELECT pg_is_in_recovery()") is True

    first = api.call("POST", "/v1/articles", ARTICLES[0])
    assert first.status == 201 and first.position is not None
    fresh = api.call("GET", f"/v1/articles/article-replica-1?min_position={first.position}")
    assert fresh.status == 200 and fresh.body["claims"]
    assert fresh.position is not None and fresh.position >= first.position
    # Streaming replication brings the write to the replica without anyone asking.
    _until(
        lambda: api.call("GET", "/v1/articles").position == first.position,
        "the replica never replayed the first write",
    )

    # With replay paused the replica stays at the first write: plain reads show it (so they
    # come from the replica), reads that need the second write get the primary.
    _on_replica(clusters, "SELECT pg_wal_replay_pause()")
    second = api.call("POST", "/v1/articles", ARTICLES[1])
    assert second.status == 201 and second.position is not None
    assert second.position > first.position
    stale = api.call("GET", "/v1/articles")
    assert (stale.status, stale.position, stale.body["total"]) == (200, first.position, 1)
    wanted = {"Factstore-Min-Position": str(second.position)}
    read_back = api.call("GET", "/v1/articles", headers=wanted)
    assert (read_back.position, read_back.body["total"]) == (second.position, 2)
    claims = api.call("GET", f"/v1/articles/article-replica-2?min_position={second.position}")
    assert claims.status == 200 and claims.body["claims"]

    started = time.monotonic()
    too_new = api.call("GET", f"/v1/topics?min_position={second.position + 1000}")
    assert too_new.status == 503
    assert too_new.body["type"].endswith("/position-not-reached")
    assert time.monotonic() - started >= MIN_POSITION_WAIT_MS / 1000

    _on_replica(clusters, "SELECT pg_wal_replay_resume()")
    _until(
        lambda: api.call("GET", "/v1/articles").position == second.position,
        "the replica never caught up after replay resumed",
    )
    assert api.call("GET", "/v1/articles").body["total"] == 2

    # A standby refuses writes whoever sends them.
    with pytest.raises(DBAPIError, match="read-only"):
        _on_replica(clusters, "CREATE TABLE written_on_the_replica (x integer)")
