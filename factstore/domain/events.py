"""Events as plain data: what a writer hands to the store and what the store hands back.

No framework imports here. The store adds the bookkeeping (version, position, time, hashes);
everything else is decided by the domain.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSONObject = Mapping[str, Any]

# Who wrote an event (its metadata's "actor": a token's name, a command's --actor): the figures
# projection records it in a column of this size, which PostgreSQL enforces.
MAX_ACTOR = 200


def actor_problem(name: str) -> str | None:
    """Why `name` cannot name an actor; None if it can."""
    if not name.strip():
        return "an actor name must not be empty"
    if len(name) > MAX_ACTOR:
        return f"an actor name must be at most {MAX_ACTOR} characters"
    return None


class StreamState(enum.Enum):
    """Expected-version values that are not an exact version number."""

    NO_STREAM = "no_stream"  # the stream must not exist yet
    ANY = "any"  # no check at all


ExpectedVersion = int | StreamState


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event not yet stored. `event_id` doubles as the idempotency key of a retried append."""

    type: str
    data: JSONObject
    metadata: JSONObject = field(default_factory=dict)
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: immutable, positioned in its stream and in the global log, hashed.

    `hash` chains the event to the previous event of its stream (`prev_hash`); `log_hash` chains it
    to the previous event of the whole log, so that the log's head digest covers every event.
    """

    event_id: uuid.UUID
    stream_id: str
    version: int
    position: int
    type: str
    schema_version: int
    data: JSONObject
    metadata: JSONObject
    recorded_at: datetime
    prev_hash: str
    hash: str
    log_hash: str
