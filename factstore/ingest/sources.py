"""Reading articles from files: plain text, JSON objects (or lists of them), JSON Lines, and
folders of those. Every article gets a stable id so that re-reading the same source article
always lands on the same stream."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from factstore.domain.articles import (
    MAX_OUTLET,
    MAX_PUBLISHED_AT,
    MAX_TITLE,
    MAX_URL,
    date_or_none,
)
from factstore.store.hashing import lone_surrogate_at

LENGTH_LIMITS = {
    "title": MAX_TITLE,
    "outlet": MAX_OUTLET,
    "url": MAX_URL,
    "published_at": MAX_PUBLISHED_AT,
}
TEXT_SUFFIXES = {".txt", ".text", ".md"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
ARTICLE_FIELDS = {"id", "source_id", "title", "outlet", "published_at", "url", "text"}


class SourceError(ValueError):
    """A file that cannot be read as articles; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class ArticleInput:
    article_id: str
    text: str
    title: str | None = None
    outlet: str | None = None
    published_at: str | None = None
    url: str | None = None
    source: str | None = None  # where it was read from (a path, a URL)


def stream_id_for(article_id: str) -> str:
    return f"article-{article_id}"


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, fragment and trailing slash dropped: one URL, one article."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unbalanced '[' in the host: not parseable, still one article
        return url.strip()
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def article_id_for(record_id: str | None, url: str | None, fallback: str) -> str:
    """Given id first, else a hash of the canonical URL, else the fallback (a file's stem)."""
    if record_id:
        cleaned = _ID_UNSAFE.sub("-", str(record_id)).strip("-")
        if cleaned:
            return cleaned[:200]
    if url:
        return "url-" + hashlib.sha256(canonical_url(url).encode()).hexdigest()[:24]
    return _ID_UNSAFE.sub("-", fallback).strip("-")[:200] or "article"


def article_from_record(record: Any, *, where: str, fallback_id: str) -> ArticleInput:
    if not isinstance(record, dict):
        raise SourceError(f"{where}: an article must be a JSON object")
    unknown = set(record) - ARTICLE_FIELDS
    if unknown:
        raise SourceError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SourceError(f"{where}: 'text' must be a non-empty string")
    if any(isinstance(v, str) and "\x00" in v for v in record.values()):
        raise SourceError(f"{where}: contains NUL characters (not text)")
    if any(isinstance(v, str) and lone_surrogate_at(v) is not None for v in record.values()):
        raise SourceError(f"{where}: contains a lone surrogate, e.g. \\ud800 (not Unicode text)")
    for name in ("title", "outlet", "published_at", "url", "id", "source_id"):
        value = record.get(name)
        if value is not None and not isinstance(value, str | int):
            raise SourceError(f"{where}: '{name}' must be a string")
    for name, limit in LENGTH_LIMITS.items():
        if len(str(record.get(name) or "")) > limit:
            raise SourceError(f"{where}: '{name}' is longer than {limit} characters")
    published_at = record.get("published_at")
    if published_at is not None and date_or_none(str(published_at)) is None:
        raise SourceError(f"{where}: 'published_at' must be an ISO 8601 date or timestamp")
    record_id = record.get("source_id") or record.get("id")
    url = record.get("url")
    return ArticleInput(
        article_id=article_id_for(None if record_id is None else str(record_id), url, fallback_id),
        text=text,
        title=record.get("title"),
        outlet=record.get("outlet"),
        published_at=None if record.get("published_at") is None else str(record["published_at"]),
        url=url,
        source=where,
    )


def read_paths(paths: Iterable[Path]) -> Iterator[ArticleInput]:
    """Articles from files and folders (folders: their article files, sorted, not recursive
    into hidden entries)."""
    for path in paths:
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and _kind(p) is not None
            )
            for file in files:
                yield from read_file(file)
        elif path.is_file():
            yield from read_file(path)
        else:
            raise SourceError(f"{path}: no such file or folder")


def _kind(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in TEXT_SUFFIXES:
        return "text"
    if last in JSON_SUFFIXES:
        return "json"
    if last in JSONL_SUFFIXES:
        return "jsonl"
    return None


def _open_text(path: Path, encoding: str = "utf-8") -> IO[str]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding=encoding)
    return path.open("r", encoding=encoding)


def read_file(path: Path) -> Iterator[ArticleInput]:
    kind = _kind(path)
    stem = path.name.split(".")[0]
    try:
        if kind == "text":
            with _open_text(path) as handle:
                text = handle.read()
            if not text.strip():
                raise SourceError(f"{path}: the file is empty")
            if "\x00" in text:
                raise SourceError(f"{path}: contains NUL bytes (not a text article)")
            yield ArticleInput(
                article_id=article_id_for(None, None, stem), text=text, source=str(path)
            )
        elif kind == "json":
            # JSON has no byte order mark, but Windows tools write one: skip it, as for JSONL.
            with _open_text(path, "utf-8-sig") as handle:
                try:
                    document = json.load(handle)
                except json.JSONDecodeError as error:
                    raise SourceError(f"{path}: not valid JSON ({error})") from error
            records = document if isinstance(document, list) else [document]
            for index, record in enumerate(records):
                fallback = stem if len(records) == 1 else f"{stem}-{index + 1}"
                yield article_from_record(record, where=f"{path}#{index + 1}", fallback_id=fallback)
        elif kind == "jsonl":
            with _open_text(path, "utf-8-sig") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise SourceError(f"{path}:{number}: not valid JSON ({error})") from error
                    yield article_from_record(
                        record, where=f"{path}:{number}", fallback_id=f"{stem}-{number}"
                    )
        else:
            raise SourceError(
                f"{path}: not an article file (.txt, .json or .jsonl, optionally .gz)"
            )
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from error
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:  # EOFError: a cut-off .gz
        raise SourceError(f"{path}: not a readable gzip file ({error})") from error
