"""RSS and Atom feeds to the list of articles they point at.

feedparser reads every RSS and Atom dialect and survives the malformed ones; it never touches
the network here: the fetcher gets the bytes with its own guarded client and hands them over
wrapped in a stream (a plain string could be taken for a URL or a path by feedparser).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]


class FeedError(ValueError):
    """Bytes that are not a feed; the message says why."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    url: str
    title: str | None
    published_at: str | None  # ISO 8601 in UTC, when the feed dates the item


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> list[FeedItem]:
    """The items of a feed, in feed order, one per distinct http(s) link; relative links are
    resolved against the feed's URL."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed: Any = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS or Atom feed found"
        raise FeedError(f"not a feed: {reason}")
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if not link or urlsplit(link).scheme not in ("http", "https") or link in seen:
            continue
        seen.add(link)
        title = (entry.get("title") or "").strip() or None
        items.append(FeedItem(url=link, title=title, published_at=_published(entry)))
    return items


def _published(entry: Any) -> str | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not isinstance(stamp, time.struct_time):
        return None
    return datetime(*stamp[:6], tzinfo=UTC).isoformat()
