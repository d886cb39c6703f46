"""What counts as the same article content. Pure."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import date

# An article's metadata, wherever it comes from (API, files, sources): the projections' columns
# hold no more (PostgreSQL enforces these lengths, SQLite does not), so a longer value would be
# stored in the log and then stop every projection that meets it.
MAX_TITLE = 1_000
MAX_OUTLET = 200
MAX_URL = 2_000
MAX_PUBLISHED_AT = 32  # an ISO 8601 date or timestamp: "2017-05-10T09:30:00.000000+03:00"


def normalise_text(text: str) -> str:
    """What counts as 'the same text': NFC, unified newlines, no trailing spaces or blank tail."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def content_hash(
    text: str,
    *,
    title: str | None = None,
    outlet: str | None = None,
    published_at: str | None = None,
    url: str | None = None,
) -> str:
    fields = {
        "text": normalise_text(text),
        "title": title,
        "outlet": outlet,
        "published_at": published_at,
        "url": url,
    }
    encoded = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def date_or_none(value: str | None) -> date | None:
    """The date an ISO date or timestamp starts with; None when absent or not a date."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
