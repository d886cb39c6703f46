from __future__ import annotations

from pathlib import Path

import pytest

from factstore.ingest.service import ingest
from factstore.ingest.sources import read_paths
from factstore.projections import default_runner
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore

SEEDS = Path(__file__).resolve().parents[3] / "seeds"


@pytest.fixture
def runner(store: EventStore) -> ProjectionRunner:
    return default_runner(store)


@pytest.fixture
def seeded(store: EventStore, runner: ProjectionRunner) -> EventStore:
    """The five seed articles ingested in order, projections up to date."""
    for path in sorted(SEEDS.glob("*.txt")):
        list(ingest(store, read_paths([path]), metadata={"actor": "test"}, runner=runner))
    return store
