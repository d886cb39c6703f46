"""Article events: what the log records when an article arrives or changes. Pure."""

from __future__ import annotations

import hashlib
import json
import unicodedata
import uuid
from typing import Any

ARTICLE_INGESTED = "ArticleIngested"
ARTICLE_REVISED = "ArticleRevised"
ARTICLE_EVENT_TYPES = (ARTICLE_INGESTED, ARTICLE_REVISED)

# Deterministic event ids: the same article content produces the same ids, so a retried or
# racing ingest of identical content is an idempotent no-op in the store.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2d1e-3a0b-5e52-9a4e-2f6a4d9b7c10")


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


def event_id_for(stream_id: str, version: int, event_type: str, discriminator: str) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{stream_id}|{version}|{event_type}|{discriminator}")


def article_data(
    *,
    article_id: str,
    text: str,
    content_hash: str,
    title: str | None,
    outlet: str | None,
    published_at: str | None,
    url: str | None,
    source: str | None,
) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "content_hash": content_hash,
        "title": title,
        "outlet": outlet,
        "published_at": published_at,
        "url": url,
        "source": source,
        "text": text,
    }
