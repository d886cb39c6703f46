"""The API as other systems see it: gunicorn on a loopback port, real HTTP, and a bounded
Schemathesis run against the spec the server publishes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.live_server import REPO, SEEDS, TOKEN, Server

HOOKS = "tests.e2e.schemathesis_hooks"


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
