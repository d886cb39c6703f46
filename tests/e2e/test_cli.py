"""The `factstore` command as a user runs it: a real subprocess against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from factstore.store.database import create_store_engine
from factstore.store.schema import head_revision

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"


def run(database_url: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACTSTORE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "factstore.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO,
        timeout=120,
    )


def test_upgrade_ingest_verify_digest(fresh_database_url: str) -> None:
    upgraded = run(fresh_database_url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"-> {head_revision()}" in upgraded.stdout

    first = run(fresh_database_url, "ingest", str(SEEDS))
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("new ") == 5
    assert "5 new, 0 revised, 0 unchanged" in first.stdout

    again = run(fresh_database_url, "ingest", str(SEEDS))
    assert "0 new, 0 revised, 5 unchanged; 0 events appended" in again.stdout

    head = int(first.stdout.rsplit("head position ", 1)[1].split()[0])
    assert head > 5  # an article event and claim events per article
    digest = run(fresh_database_url, "digest")
    assert digest.returncode == 0
    assert digest.stdout.startswith("sha256:")
    assert digest.stdout.strip().endswith(f"@{head}")

    verified = run(fresh_database_url, "verify", "--digest", digest.stdout.strip())
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ok: ")


def test_ingest_json_and_jsonl_and_revision(database_url: str, tmp_path: Path) -> None:
    record = {
        "id": "wire-1",
        "title": "T",
        "outlet": "Wire",
        "url": "https://x.test/a",
        "published_at": "2016-11-01",
        "text": "At least 20 people were killed.",
    }
    (tmp_path / "one.json").write_text(json.dumps(record))
    lines = [dict(record, id=f"wire-{i}") for i in range(2, 5)]
    (tmp_path / "many.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    result = run(database_url, "ingest", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "4 new" in result.stdout

    (tmp_path / "one.json").write_text(
        json.dumps(dict(record, text="At least 44 people were killed."))
    )
    revised = run(database_url, "ingest", str(tmp_path / "one.json"))
    assert "1 revised" in revised.stdout
    # ArticleRevised, the old toll retracted, the new one asserted.
    assert "article-wire-1 v5 (+3 events, +1 claims, -1 retracted)" in revised.stdout
    topics = json.loads(run(database_url, "figures", "--json", "--measure", "killed").stdout)
    [topic] = [t["topic"] for t in topics["items"] if t["figure"]["value"] == 44]
    history = run(database_url, "history", topic, "--json")
    assert history.returncode == 0, history.stderr
    changes = json.loads(history.stdout)["items"]
    # One change per append: the revision moved the figure from 20 to 44 in one step.
    assert [((c["from"] or {}).get("value"), c["to"]["value"]) for c in changes] == [
        (None, 20),
        (20, 44),
    ]
    assert "ArticleRevised" in changes[1]["cause"]["detail"]


def test_bad_input_is_one_line_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    good = {"id": "ok", "text": "Ten people were hurt."}
    (tmp_path / "mixed.jsonl").write_text(json.dumps(good) + "\n{not json\n")
    result = run(database_url, "ingest", str(tmp_path / "mixed.jsonl"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("factstore: error: ")
    assert "mixed.jsonl:2" in result.stderr
    assert "Traceback" not in result.stderr
    assert (
        run(database_url, "digest").stdout.strip().endswith("@0")
    )  # the good line was not written
    missing = run(database_url, "ingest", str(tmp_path / "nope.txt"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    # An actor the projections could not record (see test_token_comparison.py): refused first.
    (tmp_path / "good.txt").write_text(good["text"])
    long_actor = run(database_url, "ingest", "--actor", "a" * 201, str(tmp_path / "good.txt"))
    assert long_actor.returncode == 2 and "at most 200 characters" in long_actor.stderr
    assert run(database_url, "digest").stdout.strip().endswith("@0")


def test_commands_without_schema_say_what_to_do(fresh_database_url: str) -> None:
    result = run(fresh_database_url, "verify")
    assert result.returncode == 1
    assert "run `factstore db upgrade`" in result.stderr
    assert "Traceback" not in result.stderr


def _tamper(database_url: str, backend: str, statement: str) -> None:
    engine = create_store_engine(database_url)
    with engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_delete"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_delete"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))
            conn.execute(text(statement))
    engine.dispose()


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        (
            "UPDATE events SET data = replace(data, '1', '7') WHERE position = 3",
            "content does not match its hash",
        ),
        ("DELETE FROM events WHERE position = 2", "position 2 is missing"),
    ],
)
def test_verify_names_the_first_broken_link(
    database_url: str, backend: str, statement: str, reason: str
) -> None:
    assert run(database_url, "ingest", str(SEEDS)).returncode == 0
    assert run(database_url, "verify").returncode == 0
    _tamper(database_url, backend, statement)
    result = run(database_url, "verify")
    assert result.returncode == 1
    assert reason in result.stderr
    assert "position" in result.stderr and "stream 'article-" in result.stderr


def test_digest_catches_a_truncated_log(database_url: str, backend: str) -> None:
    assert run(database_url, "ingest", str(SEEDS)).returncode == 0
    digest = run(database_url, "digest").stdout.strip()
    head = int(digest.rsplit("@", 1)[1])
    # Remove the last event: every remaining chain still verifies, but the digest does not.
    _tamper(database_url, backend, f"DELETE FROM events WHERE position = {head}")
    assert run(database_url, "verify").returncode == 0
    result = run(database_url, "verify", "--digest", digest)
    assert result.returncode == 1
    assert f"no longer reaches position {head}" in result.stderr
    malformed = run(database_url, "verify", "--digest", "abc@x")
    assert malformed.returncode == 1 and "not a log digest" in malformed.stderr


def test_project_follow_tails_the_log_and_stops_on_sigterm(database_url: str) -> None:
    import signal
    import time

    from factstore.domain.events import NewEvent
    from factstore.ingest.service import ingest
    from factstore.ingest.sources import read_paths
    from factstore.store.event_store import EventStore

    env = {**os.environ, "FACTSTORE_DATABASE_URL": database_url}
    follower = subprocess.Popen(
        [sys.executable, "-m", "factstore.cli", "project", "--follow", "--poll", "0.1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = create_store_engine(database_url)
    try:
        store = EventStore(engine)
        # Appended without an inline runner: only the follower can bring the projections up.
        list(ingest(store, read_paths([SEEDS]), metadata={"actor": "test"}))
        store.append("article-other", [NewEvent("SomethingElse", {"x": 1})])
        head = store.head_position()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = run(database_url, "project", "--status").stdout
            if status.count(f"checkpoint {head},") == 2:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"the follower did not catch up: {status}")
        figures = json.loads(
            run(database_url, "figures", "--json", "--measure", "displaced").stdout
        )
        assert figures["total"] >= 1
    finally:
        follower.send_signal(signal.SIGTERM)
        out, err = follower.communicate(timeout=30)
        engine.dispose()
    assert follower.returncode == 0, err
    assert "lag 0" in out
