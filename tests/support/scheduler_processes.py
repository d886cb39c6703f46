"""Real `factstore scheduler` processes for the tests, killed at the end if still running."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url

Launch = Callable[..., subprocess.Popen[str]]


@contextmanager
def scheduler_processes(database_url: str, workdir: Path, heartbeat_s: float) -> Iterator[Launch]:
    """launch(name="") starts one in `workdir` (its sources.toml); on PostgreSQL `name` becomes
    the connections' application_name, which tells a process's connections apart."""
    started: list[subprocess.Popen[str]] = []

    def launch(name: str = "") -> subprocess.Popen[str]:
        url = database_url
        if name and make_url(url).get_backend_name() == "postgresql":
            url += ("&" if "?" in url else "?") + f"application_name={name}"
        env = {**os.environ, "FACTSTORE_DATABASE_URL": url}
        env.pop("FACTSTORE_SOURCES", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "factstore.cli", "scheduler", "--heartbeat", str(heartbeat_s)],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    try:
        yield launch
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
