"""The sources file: what it accepts, and the one-line errors for what it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from factstore.ingest.sources_config import (
    SourceConfig,
    SourceConfigError,
    configured_sources,
    format_interval,
    load_file,
    merge,
    parse_interval,
)

GOOD = """
[[sources]]
id = "seeds"
kind = "directory"
path = "seeds"
interval = "1h"

[[sources]]
id = "wire"
kind = "http"
urls = ["https://example.org/a", "https://example.org/b"]
cron = "0 */6 * * *"
outlet = "Wire"

[[sources]]
id = "feed"
kind = "feed"
url = "https://example.org/rss"
interval = "15m"
max_items = 50

[[sources]]
id = "corpus"
kind = "jsonl"
path = "/data/news.jsonl.gz"
"""


def test_a_good_file_gives_typed_sources(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD)
    seeds, wire, feed, corpus = load_file(path)
    assert seeds.path == tmp_path / "seeds" and seeds.interval_s == 3600
    assert wire.urls == ("https://example.org/a", "https://example.org/b")
    assert wire.cron == "0 */6 * * *" and wire.interval_s is None
    assert feed.schedule == "every 15m" and feed.max_items == 50
    assert corpus.path == Path("/data/news.jsonl.gz") and corpus.interval_s == 3600
    assert wire.to_dict() == {
        "id": "wire",
        "kind": "http",
        "cron": "0 */6 * * *",
        "urls": ["https://example.org/a", "https://example.org/b"],
        "outlet": "Wire",
    }
    assert feed.urls == ("https://example.org/rss",)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('id = "Bad Id"\nkind = "directory"\npath = "x"', "'id' must be"),
        ('id = "a"\nkind = "ftp"', "'kind' must be one of"),
        ('id = "a"\nkind = "directory"', "'path' must be"),
        ('id = "a"\nkind = "directory"\npath = "x"\nurls = []', "unknown field(s) for kind"),
        ('id = "a"\nkind = "directory"\npath = "x"\ninterval = "soon"', "interval 'soon'"),
        ('id = "a"\nkind = "directory"\npath = "x"\ncron = "61 * * * *"', "cron '61 * * * *'"),
        ('id = "a"\nkind = "jsonl"\npath = "x"\ncron = "0 * * * *"\ninterval = "1h"', "not both"),
        ('id = "a"\nkind = "http"\nurls = ["file:///etc/passwd"]', "not an http(s) URL"),
        ('id = "a"\nkind = "feed"\nurl = "https://x.org/rss"\nmax_items = 0', "'max_items'"),
        ('id = "a"\nkind = "feed"\nurl = "https://x.org/rss"\nurls = []', "not both"),
        # PostgreSQL's projection columns hold 200: a longer outlet would stop them (see
        # tests/unit/test_sources.py::test_article_limits_fit_the_projection_columns)
        (f'id = "a"\nkind = "http"\nurls = ["https://x.org/"]\noutlet = "{"O" * 201}"', "'outlet'"),
    ],
)
def test_bad_sources_name_the_file_the_source_and_the_field(
    tmp_path: Path, table: str, message: str
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(f"[[sources]]\n{table}\n")
    with pytest.raises(SourceConfigError) as raised:
        load_file(path)
    assert str(raised.value).startswith(f"{path}: sources[0]")
    assert message in str(raised.value)


def test_duplicate_ids_and_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nid="a"\nkind="jsonl"\npath="x"\n' * 2)
    with pytest.raises(SourceConfigError, match="'a' appears twice"):
        load_file(path)
    path.write_text("[[sources]\n")
    with pytest.raises(SourceConfigError, match="not valid TOML"):
        load_file(path)


def test_which_file_is_read(tmp_path: Path) -> None:
    # No file: seeds/ in the working directory is the one source.
    (default,) = configured_sources({}, tmp_path)
    assert (default.id, default.kind, default.path) == ("seeds", "directory", tmp_path / "seeds")
    # ./sources.toml when present; FACTSTORE_SOURCES wins and must exist.
    (tmp_path / "sources.toml").write_text('[[sources]]\nid="x"\nkind="jsonl"\npath="x.jsonl"\n')
    assert [s.id for s in configured_sources({}, tmp_path)] == ["x"]
    with pytest.raises(SourceConfigError, match=r"FACTSTORE_SOURCES=missing\.toml: no such file"):
        configured_sources({"FACTSTORE_SOURCES": "missing.toml"}, tmp_path)


def test_intervals_round_trip() -> None:
    assert parse_interval("90s") == 90
    assert parse_interval("1h30m") == 5400
    assert format_interval(5400) == "1h30m"
    assert format_interval(parse_interval("2d")) == "2d"
    with pytest.raises(ValueError):
        parse_interval("0s")


def test_api_sources_never_shadow_file_sources() -> None:
    mine = SourceConfig(id="a", kind="jsonl", path=Path("x"), interval_s=60)
    theirs = SourceConfig(id="a", kind="feed", urls=("https://x.org",), interval_s=60, origin="api")
    other = SourceConfig(id="b", kind="feed", urls=("https://x.org",), interval_s=60, origin="api")
    merged = merge([mine], {"a": theirs, "b": other})
    assert [(s.id, s.origin) for s in merged.sources] == [("a", "file"), ("b", "api")]
    with pytest.raises(SourceConfigError, match="no source zzz"):
        merged.select(["zzz"])
