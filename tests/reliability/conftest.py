"""Shared by the reliability tests: a realistic log (seed articles, a revision, analysts'
corrections), projection snapshots, and the `factstore` command as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from factstore.corrections import rank_claim, retract_claim
from factstore.ingest.service import ingest
from factstore.ingest.sources import ArticleInput, read_paths
from factstore.projections import default_runner
from factstore.projections.models import claims_table
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore
from tests.conftest import BACKEND
from tests.replay import snapshot

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"


def write_history(store: EventStore) -> ProjectionRunner:
    """Seeds, a revised article, a ranked and a retracted claim; projections up to date."""
    runner = default_runner(store)
    metadata = {"actor": "reliability-test"}
    list(ingest(store, read_paths(sorted(SEEDS.glob("*.txt"))), metadata=metadata, runner=runner))
    wire = ArticleInput("wire-1", "At least 20 civilians were killed in Raqqa, the UN said.")
    list(ingest(store, [wire], metadata=metadata, runner=runner))
    revised = ArticleInput("wire-1", "At least 44 civilians were killed in Raqqa, the UN said.")
    list(ingest(store, [revised], metadata=metadata, runner=runner))
    with store.engine.connect() as conn:
        claim_ids = conn.execute(
            select(claims_table.c.claim_id).order_by(claims_table.c.claim_id).limit(2)
        ).scalars()
        first, second = list(claim_ids)
    rank_claim(store, runner, first, "preferred", "checked", "analyst-a")
    retract_claim(store, runner, second, "double-counted", "analyst-b")
    return runner


def projection_snapshot(engine: Engine, runner: ProjectionRunner) -> dict[str, Any]:
    return snapshot(engine, [t for p in runner.projections.values() for t in p.tables])


def rebuilt_snapshot(store: EventStore) -> dict[str, Any]:
    """The projections as a fresh rebuild from the log computes them."""
    runner = default_runner(store)
    for name in runner.projections:
        runner.rebuild(name)
    return projection_snapshot(store.engine, runner)


def factstore(database_url: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACTSTORE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "factstore.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=kwargs.pop("timeout", 120),
        **kwargs,
    )


@pytest.fixture
def postgres_only() -> None:
    if BACKEND != "postgresql":
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL run of the suite")


# The API tests' app and client (a real store on the backend under test), reused here.
from tests.integration.api.conftest import AUTH, app, client  # noqa: E402, F401


@pytest.fixture
def sqlite_only() -> None:
    if BACKEND != "sqlite":
        pytest.skip("SQLite files only: runs in the SQLite run of the suite")
