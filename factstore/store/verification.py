"""Tamper evidence: recompute both hash chains from the stored columns and report the first
link that does not hold. Reads the log in position order in batches, keeping one
(version, hash) pair per stream in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from factstore.domain.events import RecordedEvent
from factstore.store.hashing import GENESIS_HASH, canonical_json, event_hash, log_hash
from factstore.whole_numbers import HUGE, parse_whole_number

if TYPE_CHECKING:  # the store imports this module (its import path checks chains too)
    from factstore.store.event_store import EventStore

DIGEST_PREFIX = "sha256:"


@dataclass(frozen=True, slots=True)
class BrokenLink:
    stream_id: str
    version: int
    position: int
    reason: str

    def __str__(self) -> str:
        return (
            f"broken link at stream {self.stream_id!r} version {self.version} "
            f"(position {self.position}): {self.reason}"
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    events_checked: int
    streams_checked: int
    head_position: int
    head_log_hash: str
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def digest(self) -> str:
        return format_digest(self.head_log_hash, self.head_position)


def format_digest(log_hash_hex: str, position: int) -> str:
    return f"{DIGEST_PREFIX}{log_hash_hex}@{position}"


def parse_digest(digest: str) -> tuple[str, int]:
    """'sha256:HEX@POSITION' (the prefix is optional) -> (hex, position)."""
    body = digest.removeprefix(DIGEST_PREFIX)
    hex_part, sep, position_part = body.rpartition("@")
    if (
        not sep
        or len(hex_part) != 64
        or any(c not in "0123456789abcdef" for c in hex_part)
        or (position := parse_whole_number(position_part)) is None
        or position == HUGE
    ):
        raise ValueError(f"not a log digest (expected sha256:<64 hex>@<position>): {digest!r}")
    return hex_part, position


@dataclass(slots=True)
class LogChain:
    """Both hash chains checked one event at a time, in position order from position 1: what
    `verify_log` walks over a stored log and what an import checks before it writes."""

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    prev_log: str = GENESIS_HASH
    position: int = 0

    def add(self, event: RecordedEvent) -> BrokenLink | None:
        """The first rule the next event breaks (the chain stays where it was), else None."""
        broken = _check_event(event, self.heads, self.prev_log, self.position + 1)
        if broken is None:
            self.heads[event.stream_id] = (event.version, event.hash)
            self.prev_log = event.log_hash
            self.position += 1
        return broken


def verify_log(store: EventStore, batch_size: int = 5000) -> VerifyReport:
    chain = LogChain()
    for event in store.iter_all(0, batch_size):
        broken = chain.add(event)
        if broken is not None:
            return VerifyReport(
                chain.position, len(chain.heads), event.position, chain.prev_log, broken
            )
    return VerifyReport(chain.position, len(chain.heads), chain.position, chain.prev_log, None)


def _check_event(
    event: RecordedEvent,
    heads: dict[str, tuple[int, str]],
    prev_log: str | None,
    expected_position: int | None,
) -> BrokenLink | None:
    """The first rule this event breaks; None skips the log-level checks."""

    def broken(reason: str) -> BrokenLink:
        return BrokenLink(event.stream_id, event.version, event.position, reason)

    if expected_position is not None and event.position != expected_position:
        return broken(f"position {expected_position} is missing from the log")
    version, prev_hash = heads.get(event.stream_id, (0, GENESIS_HASH))
    if event.version != version + 1:
        return broken(f"expected version {version + 1} of the stream")
    if event.prev_hash != prev_hash:
        return broken("prev_hash does not match the previous event of the stream")
    recomputed = event_hash(
        prev_hash=event.prev_hash,
        event_id=event.event_id,
        stream_id=event.stream_id,
        version=event.version,
        position=event.position,
        type=event.type,
        schema_version=event.schema_version,
        recorded_at=event.recorded_at,
        data_json=canonical_json(event.data),
        metadata_json=canonical_json(event.metadata),
    )
    if recomputed != event.hash:
        return broken("content does not match its hash (the event was altered)")
    if prev_log is not None and log_hash(prev_log, event.hash) != event.log_hash:
        return broken("log hash does not chain to the previous event of the log")
    return None


def check_digest(store: EventStore, digest: str) -> str | None:
    """None if the log still begins with the history the digest was taken of, else why not."""
    expected_hash, position = parse_digest(digest)
    if position == 0:
        return None if expected_hash == GENESIS_HASH else "position 0 has only the genesis digest"
    actual = store.log_hash_at(position)
    if actual is None:
        return f"the log no longer reaches position {position}"
    if actual != expected_hash:
        return f"the log's history up to position {position} differs from the digest"
    return None


def verify_stream(events: list[RecordedEvent]) -> BrokenLink | None:
    """The first broken link of one stream's own chain (versions, prev_hash, content hashes).
    The log chain needs the whole log: `verify_log` checks it."""
    previous_version, previous_hash = 0, GENESIS_HASH
    for event in events:
        heads = {event.stream_id: (previous_version, previous_hash)}
        broken = _check_event(event, heads, prev_log=None, expected_position=None)
        if broken is not None:
            return broken
        previous_version, previous_hash = event.version, event.hash
    return None
