from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from factstore.store.hashing import GENESIS_HASH, canonical_json, event_hash, format_timestamp
from factstore.store.verification import format_digest, parse_digest


def test_canonical_json_is_order_and_space_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert canonical_json({"t": "Mosul – الموصل"}) == '{"t":"Mosul – الموصل"}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("inf")})


def test_timestamps_are_utc_with_microseconds() -> None:
    moment = datetime(2017, 5, 10, 14, 0, 0, 1234, tzinfo=timezone(timedelta(hours=3)))
    assert format_timestamp(moment) == "2017-05-10T11:00:00.001234Z"


def _hash(**overrides: object) -> str:
    fields: dict[str, object] = {
        "prev_hash": GENESIS_HASH,
        "event_id": uuid.UUID(int=1),
        "stream_id": "s",
        "version": 1,
        "position": 1,
        "type": "T",
        "schema_version": 1,
        "recorded_at": datetime(2020, 1, 1, tzinfo=UTC),
        "data_json": "{}",
        "metadata_json": "{}",
    }
    fields.update(overrides)
    return event_hash(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"prev_hash": "1" * 64},
        {"event_id": uuid.UUID(int=2)},
        {"stream_id": "s2"},
        {"version": 2},
        {"position": 2},
        {"type": "U"},
        {"schema_version": 2},
        {"recorded_at": datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=UTC)},
        {"data_json": '{"a":1}'},
        {"metadata_json": '{"a":1}'},
    ],
)
def test_every_field_is_covered_by_the_hash(change: dict[str, object]) -> None:
    assert _hash(**change) != _hash()


def test_fields_cannot_be_shifted_across_the_separator() -> None:
    assert _hash(stream_id="a|T", type="x") != _hash(stream_id="a", type="T|x")


def test_digest_round_trip_and_rejects() -> None:
    digest = format_digest("ab" * 32, 42)
    assert parse_digest(digest) == ("ab" * 32, 42)
    assert parse_digest(digest.removeprefix("sha256:")) == ("ab" * 32, 42)
    whole = "sha256:" + "a" * 64 + "@"
    for bad in ["", "sha256:abc@1", "sha256:" + "g" * 64 + "@1", whole + "x", whole + "\u00b2"]:
        with pytest.raises(ValueError, match="not a log digest"):
            parse_digest(bad)
    with pytest.raises(ValueError, match="not a log digest"):  # not thousands of digits
        parse_digest(whole + "9" * 5000)
