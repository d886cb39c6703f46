"""Topic keys: what a claim is about, as a stable URL-safe string.

    <kind>.<measure>.<subject>.<place>               for totals and current states
    incident.<measure>.<subject>.<place>.<date>      for single events

`place` is a gazetteer slug or `unknown`; `date` is the ISO day of the incident or `undated`.
Keys use only [a-z0-9_.-], so they can be used in URLs unescaped. Two claims share a topic
exactly when they count the same measure of the same subject at the same place (on the same day,
for incidents); a running total and a single incident never share one.
"""

from __future__ import annotations

import re

UNSAFE = re.compile(r"[^a-z0-9_-]+")
UNKNOWN_PLACE = "unknown"
UNDATED = "undated"


def _part(value: str) -> str:
    return UNSAFE.sub("-", value.lower()).strip("-") or "none"


def topic_key(
    *, kind: str, measure: str, subject: str, place: str | None, as_of: str | None
) -> str:
    parts = [_part(kind), _part(measure), _part(subject), _part(place or UNKNOWN_PLACE)]
    if kind == "incident":
        parts.append(as_of if as_of else UNDATED)
    return ".".join(parts)


def parse_topic_key(key: str) -> dict[str, str | None]:
    parts = key.split(".")
    if len(parts) not in (4, 5):
        raise ValueError(f"not a topic key: {key!r}")
    return {
        "kind": parts[0],
        "measure": parts[1],
        "subject": parts[2],
        "place": None if parts[3] == UNKNOWN_PLACE else parts[3],
        "date": (None if parts[4] == UNDATED else parts[4]) if len(parts) == 5 else None,
    }
