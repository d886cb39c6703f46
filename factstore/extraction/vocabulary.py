"""The extractor's vocabularies: measures, subjects, places, attribution cues, source names.

The data lives in `vocabulary.json` next to this module. A deployment extends it with a JSON file
of the same shape named by the environment variable FACTSTORE_VOCABULARY: lists are unioned and
mappings merged key by key, so an extension adds places or cue words without copying the base.
The sha256 of the merged data (canonical JSON) is part of EXTRACTOR_VERSION, so a claim always
says which vocabulary produced it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

VOCABULARY_ENV = "FACTSTORE_VOCABULARY"
DIRECTIONS = ("east", "west", "north", "south")
CITY_PARTS = (*DIRECTIONS, "old-city")
CONTINUATION_HINTS = ("adding", "saying", "noting", "stressing", "explaining", "stating")


@dataclass(frozen=True, slots=True)
class MeasureCue:
    measure: str
    direction: str  # "before": cue precedes the number; "after": cue follows the counted noun


@dataclass(frozen=True, slots=True)
class SubjectSpec:
    name: str
    subject_class: str


@dataclass(frozen=True, slots=True)
class Place:
    slug: str
    kind: str  # country, region, province, city, town, district, neighborhood, part
    parent: str | None
    needs_preposition: bool
    capital: bool = False  # may stand for its government: "Moscow said"


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    name: str
    subject_classes: frozenset[str]
    default_subject: str | None


class Vocabulary:
    """Lookup tables built once from the merged vocabulary data."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.digest = hashlib.sha256(
            json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        ).hexdigest()
        self.measures: dict[str, MeasureSpec] = {}
        # cue phrase (tuple of lowercase tokens) -> cues, in vocabulary order
        self.cues: dict[tuple[str, ...], list[MeasureCue]] = {}
        for name, spec in data["measures"].items():
            self.measures[name] = MeasureSpec(
                name, frozenset(spec["subjects"]), spec.get("default_subject")
            )
            for direction in ("before", "after"):
                for phrase in spec[direction]:
                    key = tuple(phrase.lower().split())
                    self.cues.setdefault(key, []).append(MeasureCue(name, direction))
        self.max_cue_words = max(len(key) for key in self.cues)
        self.auxiliaries = frozenset(data["auxiliaries"])
        self.subjects: dict[tuple[str, ...], SubjectSpec] = {}
        for name, spec in data["subjects"].items():
            for noun in spec["nouns"]:
                key = tuple(noun.lower().replace(",", " ,").split())
                self.subjects[key] = SubjectSpec(name, spec["class"])
        self.max_subject_words = max(len(key) for key in self.subjects)
        self.subject_classes = {name: spec["class"] for name, spec in data["subjects"].items()}
        self.subject_modifiers: dict[tuple[str, ...], str] = {}
        for name, words in data["subject_modifiers"].items():
            for word in words:
                self.subject_modifiers[tuple(word.lower().split())] = name
        self.militant_cues = frozenset(word.lower() for word in data["militant_cues"])
        self.relational_nouns = frozenset(data["relational_nouns"])
        self.territory_list_nouns = frozenset(data["territory_list_nouns"])
        attribution = data["attribution"]
        self.speech_verbs_after = frozenset(
            tuple(v.split()) for v in attribution["verbs_after_source"]
        )
        # a cheap prefilter: a sentence with none of these words has no speech cue
        hint_words = {phrase.split()[0] for phrase in attribution["verbs_after_source"]}
        hint_words |= {"according", "quoted", "by", *CONTINUATION_HINTS}
        self.speech_hints = frozenset(hint_words)
        self.role_nouns = frozenset(attribution["role_nouns"])
        self.org_words = frozenset(attribution["org_words"])
        self.titles = frozenset(t.lower() for t in attribution["titles"])
        self.relay_sources = frozenset(s.lower() for s in attribution["relay_sources"])
        self.outlets = tuple(data["outlets"])
        self.outlet_names = {name.lower(): name for name in self.outlets}
        self.places: dict[str, Place] = {}
        self.place_names: dict[tuple[str, ...], str] = {}
        for slug, spec in data["places"].items():
            self.places[slug] = Place(
                slug,
                spec["type"],
                spec.get("parent"),
                bool(spec.get("needs_preposition")),
                bool(spec.get("capital")),
            )
            for name in spec["names"]:
                self.place_names[_name_key(name)] = slug
        self.max_place_words = max(len(key) for key in self.place_names)
        self.place_first_words = frozenset(key[0] for key in self.place_names)
        self.place_first_words_possessive = frozenset(
            f"{key[0]}{suffix}"
            for key in self.place_names
            if len(key) == 1
            for suffix in ("'s", "’s")
        )

    def ancestors(self, slug: str) -> list[str]:
        """`slug` and its containers, innermost first (cycles are cut)."""
        chain: list[str] = []
        current: str | None = slug
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent_of(current)
        return chain

    def parent_of(self, slug: str) -> str | None:
        place = self.places.get(slug)
        if place is not None:
            return place.parent
        for part in CITY_PARTS:
            suffix = "-" + part
            if slug.endswith(suffix) and slug[: -len(suffix)] in self.places:
                return slug[: -len(suffix)]  # a synthesised part of a gazetteer city
        return None

    def place_kind(self, slug: str) -> str:
        place = self.places.get(slug)
        return place.kind if place else "part"

    @staticmethod
    def part_slug(city: str, part: str) -> str:
        """The slug of a part of a city: 'mosul' + 'west' -> 'mosul-west'. Parts missing from
        the gazetteer are synthesised as children of the city (see `parent_of`)."""
        return f"{city}-{part}"


def _name_key(name: str) -> tuple[str, ...]:
    from factstore.extraction.text import tokenize

    return tuple(token.lower for token in tokenize(name))


def merge(base: Any, extra: Any) -> Any:
    """Mappings merge key by key, lists are unioned in order, scalars are replaced."""
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        return base + [item for item in extra if item not in base]
    return extra


def load_vocabulary_data(extra_path: str | None = None) -> dict[str, Any]:
    text = resources.files("factstore.extraction").joinpath("vocabulary.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    path = extra_path if extra_path is not None else os.environ.get(VOCABULARY_ENV)
    if path:
        with open(path, encoding="utf-8") as handle:
            extra = json.load(handle)
        data = merge(data, extra)
    return data


@lru_cache(maxsize=4)
def get_vocabulary(extra_path: str | None = None) -> Vocabulary:
    """The packaged vocabulary, extended by FACTSTORE_VOCABULARY; loaded once per process."""
    return Vocabulary(load_vocabulary_data(extra_path))
