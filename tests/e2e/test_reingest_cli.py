"""`factstore reingest` as a user runs it: the sources file, the printed counts, one-line errors
with exit 1 (an unknown source, a broken file, a source that cannot be read)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import run


def test_reingest_prints_what_it_appended_and_fails_in_one_line(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "wire").mkdir()
    record = {"id": "raqqa", "published_at": "2017-06-29"}
    record["text"] = "At least 20 civilians were killed in an air strike on Raqqa on Thursday."
    (tmp_path / "wire" / "raqqa.json").write_text(json.dumps(record))
    (tmp_path / "sources.toml").write_text(
        '[[sources]]\nid = "wire"\nkind = "directory"\npath = "wire"\n'
        '[[sources]]\nid = "gone"\nkind = "jsonl"\npath = "missing.jsonl"\n'
    )
    first = run(database_url, "reingest", "wire", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("wire         1 new, 0 revised, 0 unchanged")
    assert " ok: 1 new" in first.stdout

    both = run(database_url, "reingest", cwd=tmp_path)
    assert both.returncode == 1
    assert "wire         0 new, 0 revised, 1 unchanged" in both.stdout
    assert "gone         FAILED: " in both.stdout and "missing.jsonl: no such file" in both.stdout
    assert both.stderr.strip().endswith("partial: see source(s) gone")
    assert len(both.stderr.strip().splitlines()) == 1

    (tmp_path / "sources.toml").write_text('[[sources]]\nid = "x"\nkind = "ftp"\n')
    broken = run(database_url, "reingest", cwd=tmp_path)
    assert broken.returncode == 1
    assert broken.stderr.startswith("factstore: error: ")
    assert "sources[0] (source 'x'): 'kind' must be one of" in broken.stderr
