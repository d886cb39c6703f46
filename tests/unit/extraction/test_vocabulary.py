"""The vocabulary: packaged data, deployment extension, version hash, gazetteer containment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factstore.extraction import EXTRACTOR_VERSION, extract, get_vocabulary, version_for
from factstore.extraction.vocabulary import Vocabulary, load_vocabulary_data, merge


def test_version_carries_the_vocabulary_hash() -> None:
    vocab = get_vocabulary()
    assert version_for(vocab) == EXTRACTOR_VERSION
    assert EXTRACTOR_VERSION.endswith(f"+vocab.{vocab.digest[:12]}")


def test_aliases_and_containment() -> None:
    vocab = get_vocabulary()
    key = {name: vocab.place_names[(name.lower(),)] for name in ("Gogjali", "Kokjali", "Kokceli")}
    assert set(key.values()) == {"mosul-gogjali"}
    assert vocab.place_names[("falluja",)] == vocab.place_names[("fallujah",)]
    assert vocab.ancestors("mosul-old-city")[:3] == ["mosul-old-city", "mosul-west", "mosul"]
    assert vocab.parent_of("aleppo-east") == "aleppo"  # parts are synthesised for any city


def test_extension_file_adds_places_and_changes_the_version(tmp_path: Path) -> None:
    extra = {"places": {"marib": {"type": "city", "names": ["Marib"], "parent": "yemen"}}}
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(extra), encoding="utf-8")
    extended = Vocabulary(load_vocabulary_data(str(path)))
    assert extended.digest != get_vocabulary().digest
    claim = extract("Air strikes killed 12 people in Marib.", vocabulary=extended).claims[0]
    assert claim.place == "marib"
    assert claim.extractor_version == version_for(extended)
    assert extract("Air strikes killed 12 people in Marib.").claims[0].place is None


def test_env_variable_names_the_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"outlets": ["Marib Press"]}), encoding="utf-8")
    monkeypatch.setenv("FACTSTORE_VOCABULARY", str(path))
    assert "Marib Press" in load_vocabulary_data()["outlets"]


def test_merge_unions_lists_and_merges_mappings() -> None:
    assert merge({"a": [1, 2], "b": {"x": 1}}, {"a": [2, 3], "b": {"y": 2}}) == {
        "a": [1, 2, 3],
        "b": {"x": 1, "y": 2},
    }


def test_dateline_is_not_the_place_of_the_story() -> None:
    text = "SANAA (Reuters) - Air strikes killed 41 civilians in a market in Taiz on Friday."
    assert extract(text).claims[0].place == "taiz"
    follow = text + "\n\nThe health ministry said 80 people were wounded."
    assert [c.place for c in extract(follow).claims] == ["taiz", "taiz"]


def test_including_shares_the_measure() -> None:
    claims = extract("The blast killed 30 people, including 12 children, police said.").claims
    assert [(c.value, c.subject, c.measure) for c in claims] == [
        (30, "people", "killed"),
        (12, "children", "killed"),
    ]
