"""gunicorn settings that `factstore serve` loads (`--config python:api.gunicorn_config`);
everything else is on its command line."""

from __future__ import annotations

from typing import Any

from factstore.config import Settings
from factstore.heap import start_heap_trimmer


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: hand freed heap pages back now and then (factstore.heap)."""
    start_heap_trimmer(Settings.from_env().heap_trim_seconds)
