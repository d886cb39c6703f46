"""gunicorn settings that `factstore serve` loads (`--config python:api.gunicorn_config`);
everything else is on its command line."""

from __future__ import annotations

from typing import Any

from factstore.config import Settings
from factstore.heap import start_heap_trimmer

_settings = Settings.from_env()

# A worker's RSS grows slowly under steady load even with trimming: memory the allocators keep
# after use, not live Python objects (BENCHMARKS "Soak"). Replacing a worker after so many
# requests bounds that; gunicorn lets it finish what it has in hand, and the jitter keeps the
# workers from being replaced all at once.
max_requests = _settings.worker_max_requests
max_requests_jitter = max_requests // 10


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: hand freed heap pages back now and then (factstore.heap)."""
    start_heap_trimmer(_settings.heap_trim_seconds)
