"""The Claim value object and topic keys."""

from __future__ import annotations

import json
import re

import pytest

from factstore.domain.claims import Claim
from factstore.extraction import extract
from factstore.extraction.topics import parse_topic_key, topic_key


def sample() -> Claim:
    return extract(
        "Police said 3 people were killed in Kabul on Monday.", published_at="2016-01-12"
    ).claims[0]


def test_round_trip_through_json() -> None:
    claim = sample()
    data = json.loads(json.dumps(claim.to_dict()))
    assert Claim.from_dict(data) == claim


def test_from_dict_rejects_missing_fields_and_bad_bounds() -> None:
    data = sample().to_dict()
    del data["measure"]
    with pytest.raises(ValueError, match="measure"):
        Claim.from_dict(data)
    bad = sample().to_dict() | {"lower": 10, "upper": 5}
    with pytest.raises(ValueError):
        Claim.from_dict(bad)


def test_claim_is_immutable() -> None:
    claim = sample()
    with pytest.raises(AttributeError):
        claim.value = 4  # type: ignore[misc]


def test_topic_keys_are_url_safe_and_separate_kinds_and_days() -> None:
    total = topic_key(
        kind="total", measure="killed", subject="people", place="mosul-west", as_of="2017-05-10"
    )
    incident = topic_key(
        kind="incident", measure="killed", subject="people", place="mosul-west", as_of="2017-05-10"
    )
    other_day = topic_key(
        kind="incident", measure="killed", subject="people", place="mosul-west", as_of="2017-05-11"
    )
    assert total == "total.killed.people.mosul-west"
    assert incident == "incident.killed.people.mosul-west.2017-05-10"
    assert len({total, incident, other_day}) == 3
    for key in (total, incident, other_day):
        assert re.fullmatch(r"[a-z0-9_.-]+", key)
    assert parse_topic_key(incident)["date"] == "2017-05-10"
    assert (
        topic_key(kind="current", measure="held", subject="area", place=None, as_of=None)
        == "current.held.area.unknown"
    )


def test_same_figure_from_two_articles_lands_on_one_topic() -> None:
    first = extract(
        "Militants killed 12 soldiers in Ramadi on Monday, officials said.",
        published_at="2016-01-12",
    ).claims[0]
    second = extract(
        "On Monday, 12 soldiers were killed in Ramadi, the army said.", published_at="2016-01-12"
    ).claims[0]
    assert first.topic == second.topic
