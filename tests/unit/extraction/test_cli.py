"""`factstore extract` and `factstore eval` through click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from factstore.cli import main

GOLD = Path(__file__).resolve().parents[4] / "shared" / "gold" / "seeds.json"


def test_extract_prints_one_json_document_per_file(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Tue Nov 1, 2016 15:47:24\n\nGunmen killed 9 people on Monday, police said.")
    result = CliRunner().invoke(main, ["extract", "--compact", str(article), str(article)])
    assert result.exit_code == 0, result.output
    documents = [json.loads(line) for line in result.output.splitlines()]
    assert len(documents) == 2
    assert documents[0]["published_at"] == "2016-11-01"
    claim = documents[0]["claims"][0]
    assert (claim["value"], claim["measure"], claim["as_of"]) == (9, "killed", "2016-10-31")


def test_extract_reads_json_from_stdin_and_applies_published_at() -> None:
    raw = json.dumps({"title": "T", "text": "Officials said 4 people were killed on Friday."})
    result = CliRunner().invoke(main, ["extract", "--published-at", "2016-04-16", "-"], input=raw)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["article"]["title"] == "T"
    assert document["claims"][0]["as_of"] == "2016-04-15"


def test_extract_quantities_lists_every_mention() -> None:
    result = CliRunner().invoke(
        main, ["extract", "--quantities", "-"], input="Prices rose 5 pct to 12.50 dlrs; 3 died."
    )
    assert result.exit_code == 0, result.output
    mentions = json.loads(result.output)["quantities"]
    assert [(m["text"], m["unit"]) for m in mentions] == [
        ("5 pct", "percent"),
        ("12.50 dlrs", "usd"),
        ("3", "count"),
    ]


def test_bad_published_at_is_one_line_error() -> None:
    result = CliRunner().invoke(main, ["extract", "--published-at", "soon", "-"], input="x")
    assert result.exit_code == 1
    assert "not a date" in result.output


@pytest.mark.skipif(not GOLD.exists(), reason="shared gold reference not available")
def test_eval_exits_non_zero_below_thresholds() -> None:
    runner = CliRunner()
    passing = runner.invoke(main, ["eval", str(GOLD), "--min-recall", "0.95", "--json"])
    assert passing.exit_code == 0, passing.output
    assert json.loads(passing.output)["recall"] >= 0.95
    failing = runner.invoke(main, ["eval", str(GOLD), "--min-field", "1.01"])
    assert failing.exit_code == 1
    assert "below" in failing.output
