"""Fixtures of the end-to-end tests: a live server on the store under test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.live_server import Server, serve


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    with serve(database_url, tmp_path) as live:
        yield live
