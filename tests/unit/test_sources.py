from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from factstore.domain.articles import MAX_OUTLET, MAX_PUBLISHED_AT, content_hash
from factstore.ingest.sources import SourceError, article_id_for, canonical_url, read_paths
from factstore.projections.models import articles_table, claims_table


def test_ids_prefer_given_id_then_url_then_file_name() -> None:
    assert article_id_for("wire/123 x", "https://a.test/x", "f") == "wire-123-x"
    by_url = article_id_for(None, "https://A.test/x/#frag", "f")
    assert by_url == article_id_for(None, "https://a.test/x", "other")
    assert by_url.startswith("url-")
    assert article_id_for(None, None, "000_49eab6ef55a0f380") == "000_49eab6ef55a0f380"
    assert canonical_url("HTTPS://Example.test/a/") == "https://example.test/a"


def test_reads_text_json_jsonl_and_gzip_folders(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Ten people were hurt.")
    (tmp_path / "b.json").write_text(json.dumps([{"id": "b1", "text": "x"}, {"text": "y"}]))
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as handle:
        handle.write(json.dumps({"id": "c1", "text": "z", "outlet": "Wire"}) + "\n\n")
    (tmp_path / ".hidden.txt").write_text("skip me")
    (tmp_path / "notes.csv").write_text("skip me too")
    ids = [a.article_id for a in read_paths([tmp_path])]
    assert ids == ["a", "b1", "b-2", "c1"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "{", "not valid JSON"),
        ("bad.jsonl", '{"text": "ok"}\n[1]\n', "bad.jsonl:2: an article must be a JSON object"),
        ("bad2.jsonl", '{"text": ""}\n', "'text' must be a non-empty string"),
        ("bad3.jsonl", '{"text": "x", "txet": 1}\n', "unknown field(s) txet"),
        ("half.jsonl", '{"text": "x \\ud800"}\n', "half.jsonl:1: contains a lone surrogate"),
        ("half.json", '{"text": "x", "title": "\\udc00"}', "half.json#1: contains a lone"),
        ("long.jsonl", f'{{"text": "x", "outlet": "{"O" * 201}"}}\n', "'outlet' is longer than"),
        ("when.jsonl", '{"text": "x", "published_at": "yesterday"}\n', "ISO 8601 date"),
        ("when2.jsonl", f'{{"text": "x", "published_at": "2017-01-01{"x" * 30}"}}\n', "than 32"),
        ("empty.txt", "  \n", "the file is empty"),
        ("data.bin", "x", "not an article file"),
    ],
)
def test_bad_files_say_which_and_why(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(read_paths([path]))


def test_a_cut_off_or_corrupt_gzip_is_a_clear_error(tmp_path: Path) -> None:
    """Not EOFError, which the command line would report as a bare "Aborted!"."""
    whole = gzip.compress(b'{"text": "Ten people were hurt."}\n' * 100)
    for name, data in (("cut.jsonl.gz", whole[: len(whole) // 2]), ("bad.jsonl.gz", b"\x1f\x8bxx")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(SourceError, match=f"{name}: not a readable gzip file"):
            list(read_paths([tmp_path / name]))


def test_a_byte_order_mark_before_json_is_skipped(tmp_path: Path) -> None:
    record = json.dumps({"id": "a", "text": "Ten people were hurt."})
    (tmp_path / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + record.encode() + b"\n")
    (tmp_path / "b.json").write_bytes(b"\xef\xbb\xbf" + record.replace('"a"', '"b"').encode())
    assert [a.article_id for a in read_paths([tmp_path])] == ["a", "b"]


def test_non_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Café".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        list(read_paths([path]))


def test_content_hash_ignores_line_endings_and_trailing_space_only() -> None:
    assert content_hash("a \r\nb\n\n") == content_hash("a\nb")
    assert content_hash("a\nb") != content_hash("a\nc")
    assert content_hash("a", title="T") != content_hash("a")


def test_nul_bytes_are_not_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("ten\x00people")
    with pytest.raises(SourceError, match="NUL"):
        list(read_paths([tmp_path / "a.txt"]))
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "x", "title": "\x00"}) + "\n")
    with pytest.raises(SourceError, match="NUL"):
        list(read_paths([tmp_path / "b.jsonl"]))


def test_an_unparseable_url_still_gives_a_stable_id() -> None:
    from factstore.ingest.sources import article_id_for

    broken = "https://a]b.example/x"
    assert article_id_for(None, broken, "f") == article_id_for(None, broken, "g")
    assert article_id_for(None, broken, "f").startswith("url-")


def test_article_limits_fit_the_projection_columns() -> None:
    """Metadata within the limits every way in enforces fits the projections' columns, whose
    lengths PostgreSQL enforces: a longer value, once in the log, would stop them for good."""
    for table in (articles_table, claims_table):
        assert table.c.outlet.type.length >= MAX_OUTLET
        assert table.c.published_at.type.length >= MAX_PUBLISHED_AT
    assert articles_table.c.title.type.length is None  # text
    assert articles_table.c.url.type.length is None
