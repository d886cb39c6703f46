"""A live factstore server for end-to-end tests: gunicorn on a loopback port, real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from factstore.tokens import hash_token

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
TOKEN = "fs_e2e-token"


@dataclass(frozen=True)
class Server:
    base: str

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = TOKEN
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            assert error.headers["Content-Type"] == "application/problem+json"
            return error.code, json.loads(error.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_api(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`factstore serve` (gunicorn, 2 workers) on a free loopback port with `env` added to the
    environment, until /v1/health answers; yields its base URL and stops it at the end."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The access log goes to a file: an unread pipe would fill up and stall the workers.
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "factstore.cli", "serve", "--port", str(port), "--workers", "2"],
            env={**os.environ, **env},
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/v1/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"server did not start: {log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


@contextmanager
def serve(
    database_url: str, tmp_path: Path, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """The store at `database_url` served with the e2e write token (and `settings`, more
    environment); the server's log is `tmp_path / "server.log"`."""
    env = {
        "FACTSTORE_DATABASE_URL": database_url,
        "FACTSTORE_API_TOKENS": f"e2e:{hash_token(TOKEN)}",
        **(settings or {}),
    }
    with running_api(env, tmp_path / "server.log") as base:
        yield Server(base)


def ingest_seeds(server: Server) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        status, body = server.call(
            "POST", "/v1/articles", {"text": path.read_text(), "source_id": path.stem}
        )
        assert status == 201 and body["status"] == "new", body
