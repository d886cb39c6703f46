"""What counts as the same article content. Pure."""

from __future__ import annotations

import hashlib
import json
import unicodedata


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
