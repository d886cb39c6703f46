"""Canonical encoding and the two hash chains. Pure functions: verification must recompute exactly
what the writer computed, from the stored columns alone.

Event hash = SHA-256 over the UTF-8 bytes of
    prev_hash | event_id | json(stream_id) | version | position | json(type) | schema_version |
    recorded_at (ISO 8601, UTC, microseconds, "Z") | data JSON | metadata JSON
joined by "|". Strings that could contain "|" are JSON-encoded so the fields cannot be shifted.
Log hash  = SHA-256 over prev_log_hash + hash (hex), chaining every event in global position order.
The first event of a stream (or of the log) chains to GENESIS_HASH.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8, no NaN/Infinity."""
    return _encoder.encode(value)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    prev_hash: str,
    event_id: uuid.UUID,
    stream_id: str,
    version: int,
    position: int,
    type: str,
    schema_version: int,
    recorded_at: datetime,
    data_json: str,
    metadata_json: str,
) -> str:
    return event_hash_of_parts(
        prev_hash,
        str(event_id),
        json_string(stream_id),
        version,
        position,
        json_string(type),
        schema_version,
        format_timestamp(recorded_at),
        data_json,
        metadata_json,
    )


def lone_surrogate_at(text: str) -> int | None:
    """Where a string holds a lone surrogate (None if nowhere). A Python string can (a JSON
    escape such as "\\ud800" makes one), but no UTF-8 encodes it: such a string is not text,
    and no event hash covers it nor database stores it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None


def json_string(text: str) -> str:
    """How a free-text field (stream id, type) enters the event hash."""
    return json.dumps(text, ensure_ascii=False)


def event_hash_of_parts(
    prev_hash: str,
    event_id_text: str,
    stream_id_json: str,
    version: int,
    position: int,
    type_json: str,
    schema_version: int,
    timestamp_text: str,
    data_json: str,
    metadata_json: str,
) -> str:
    """event_hash with its text parts already formatted (the writer's hot path): event_id_text
    is str(event_id), *_json are json_string(...), timestamp_text is format_timestamp(...).
    """
    payload = "|".join(
        (
            prev_hash,
            event_id_text,
            stream_id_json,
            str(version),
            str(position),
            type_json,
            str(schema_version),
            timestamp_text,
            data_json,
            metadata_json,
        )
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def log_hash(prev_log_hash: str, event_hash_hex: str) -> str:
    return hashlib.sha256((prev_log_hash + event_hash_hex).encode("ascii")).hexdigest()
