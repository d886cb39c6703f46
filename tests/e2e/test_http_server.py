"""The API as other systems see it: gunicorn on a loopback port, real HTTP, and a bounded
Schemathesis run against the spec the server publishes."""

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
HOOKS = "tests.e2e.schemathesis_hooks"


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


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    env = {
        "FACTSTORE_DATABASE_URL": database_url,
        "FACTSTORE_API_TOKENS": f"e2e:{hash_token(TOKEN)}",
    }
    with running_api(env, tmp_path / "server.log") as base:
        yield Server(base)


def test_ingest_query_travel_and_correct_over_http(server: Server) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        status, body = server.call(
            "POST", "/v1/articles", {"text": path.read_text(), "source_id": path.stem}
        )
        assert status == 201 and body["status"] == "new"
    status, page = server.call("GET", "/v1/topics?measure=displaced&place=mosul")
    [topic] = [t["topic"] for t in page["items"] if t["kind"] == "total"]
    status, figure = server.call("GET", f"/v1/topics/{topic}")
    assert status == 200 and figure["figure"]["value"] == 750000
    status, history = server.call("GET", f"/v1/topics/{topic}/history")
    assert [h["to"]["value"] for h in history["items"]] == [91000, 750000]
    before = history["items"][1]["position"] - 1
    status, past = server.call("GET", f"/v1/topics/{topic}?known_at={before}")
    assert past["figure"]["value"] == 91000

    claim_id = figure["figure"]["provenance"]["claim_id"]
    status, problem = server.call(
        "POST", f"/v1/claims/{claim_id}/rank", {"rank": "deprecated", "reason": "x"}, token=None
    )
    assert status == 401 and problem["status"] == 401
    status, ranked = server.call(
        "POST", f"/v1/claims/{claim_id}/rank", {"rank": "deprecated", "reason": "double-counted"}
    )
    assert status == 201 and ranked["event"]["metadata"]["actor"] == "e2e"
    status, figure = server.call("GET", f"/v1/topics/{topic}")
    assert figure["figure"]["value"] == 91000
    status, missing = server.call("GET", "/v1/no/such/route")
    assert status == 404 and missing["title"] == "Not Found"


def test_schemathesis_finds_no_5xx_and_no_spec_mismatch(server: Server, tmp_path: Path) -> None:
    for path in sorted(SEEDS.glob("*.txt"))[:2]:
        server.call("POST", "/v1/articles", {"text": path.read_text(), "source_id": path.stem})
    examples = os.environ.get("FACTSTORE_SCHEMATHESIS_EXAMPLES", "5")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{server.base}/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            examples,
            "--workers",
            "1",
            "--seed",
            "1",
            "-H",
            f"Authorization: Bearer {TOKEN}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "SCHEMATHESIS_HOOKS": HOOKS},
    )
    report = result.stdout[-6000:]
    assert result.returncode == 0, report
    assert " passed" in report and "failed" not in report.split("SUMMARY")[-1].lower()
