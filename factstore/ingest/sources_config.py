"""Where articles come from: the configured sources, each with an id, a kind, a schedule and
options. Read from a TOML file (FACTSTORE_SOURCES, default `sources.toml` in the working
directory; with no file, the `seeds/` folder is the one source) and merged with the sources
added over the API, which are recorded as events in the `sources` stream (nothing is deleted:
removing one appends `SourceRemoved`).

    [[sources]]
    id = "seeds"
    kind = "directory"      # directory | http | feed | jsonl
    path = "seeds"
    interval = "1h"         # or: cron = "0 */6 * * *"

Pure apart from reading the file: validation errors name the file, the source and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factstore.domain import runs
from factstore.domain.articles import MAX_OUTLET
from factstore.domain.events import RecordedEvent

KINDS = ("directory", "http", "feed", "jsonl")
# Kinds that read the server's own files: only the TOML file (the operator) may configure them,
# never an API client.
FILE_KINDS = frozenset({"directory", "jsonl"})
DEFAULT_INTERVAL = "1h"
DEFAULT_SOURCES_FILE = "sources.toml"
SOURCES_ENV = "FACTSTORE_SOURCES"
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_INTERVAL_PART = re.compile(r"(\d+)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_COMMON_FIELDS = {"id", "kind", "interval", "cron", "outlet"}
_KIND_FIELDS: dict[str, set[str]] = {
    "directory": {"path"},
    "jsonl": {"path"},
    "http": {"urls", "max_items", "allow_private", "allow_hosts"},
    "feed": {"url", "urls", "max_items", "allow_private", "allow_hosts"},
}
MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 400 * 86400  # next runs are computed as dates: keep them well in range
MAX_URLS = 1000


class SourceConfigError(ValueError):
    """A source that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    id: str
    kind: str
    interval_s: int | None = None  # exactly one of interval_s and cron
    cron: str | None = None
    path: Path | None = None  # directory, jsonl
    urls: tuple[str, ...] = ()  # http: the articles; feed: the feeds
    outlet: str | None = None
    max_items: int | None = None  # at most N articles a run (feeds: the newest)
    # Fetch from private/loopback addresses (intranets), or from these host:port entries only;
    # the sources file only, never over the API.
    allow_private: bool = False
    allow_hosts: tuple[str, ...] = ()
    origin: str = "file"  # file | api | default

    @property
    def job_id(self) -> str:
        return job_id_for(self.id)

    @property
    def schedule(self) -> str:
        if self.cron:
            return f"cron {self.cron}"
        return f"every {format_interval(self.interval_s or 0)}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (API responses, SourceAdded events): only the fields of its kind."""
        document: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.cron:
            document["cron"] = self.cron
        else:
            document["interval"] = format_interval(self.interval_s or 0)
        if self.path is not None:
            document["path"] = str(self.path)
        if self.kind in ("http", "feed"):
            document["urls"] = list(self.urls)
        if self.outlet is not None:
            document["outlet"] = self.outlet
        if self.max_items is not None:
            document["max_items"] = self.max_items
        if self.allow_private:
            document["allow_private"] = True
        if self.allow_hosts:
            document["allow_hosts"] = list(self.allow_hosts)
        return document


REINGEST_JOB_PREFIX = "reingest."
REEXTRACT_JOB_ID = "reextract"


def job_id_for(source_id: str) -> str:
    return REINGEST_JOB_PREFIX + source_id


def parse_interval(text: str) -> int:
    """'90s', '15m', '1h', '1h30m', '2d' -> seconds."""
    compact = text.strip().lower()
    parts = _INTERVAL_PART.findall(compact)
    if not parts or _INTERVAL_PART.sub("", compact).strip():
        raise ValueError(f"interval {text!r}: expected e.g. '30s', '15m', '1h', '1h30m', '1d'")
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ValueError(f"interval {text!r}: must be between 1s and 400d")
    return seconds


def format_interval(seconds: int) -> str:
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"


def check_cron(expression: str) -> str:
    """A standard five-field crontab line, checked by the scheduler's own parser."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as error:
        raise ValueError(f"cron {expression!r}: {error}") from error
    return expression.strip()


# What the API accepts as a schedule, as patterns its OpenAPI document states: an interval
# ('15m', '1h30m'), or a five-field crontab line of plain values, lists and steps (no ranges or
# names) whose every value is in range.
INTERVAL_PATTERN = r"([1-9][0-9]?[smhd]){1,4}"
_CRON_FIELDS = (
    (r"[1-5]?[0-9]", r"[1-9]|[1-5][0-9]"),  # minute, step
    (r"1?[0-9]|2[0-3]", r"[1-9]|1[0-9]|2[0-3]"),  # hour
    (r"[1-9]|[12][0-9]|3[01]", r"[1-9]|[12][0-9]|30"),  # day of month
    (r"[1-9]|1[0-2]", r"[1-9]|1[01]"),  # month
    (r"[0-6]", r"[1-6]"),  # day of week
)
CRON_PATTERN = " ".join(rf"(\*|\*/({step})|({value})(,({value}))*)" for value, step in _CRON_FIELDS)
SCHEDULE_PATTERN = rf"^({INTERVAL_PATTERN}|{CRON_PATTERN})$"


def schedule_fields(schedule: str) -> dict[str, str]:
    """An API schedule string as the file's fields: {'interval': …} or {'cron': …}."""
    return {"cron": schedule} if " " in schedule.strip() else {"interval": schedule}


def parse_source(
    raw: Mapping[str, Any], *, where: str, base: Path | None, origin: str
) -> SourceConfig:
    """One source from its TOML table or API body; `base` resolves relative paths."""

    def fail(message: str) -> SourceConfigError:
        return SourceConfigError(f"{where}: {message}")

    source_id = raw.get("id")
    if not isinstance(source_id, str) or not SOURCE_ID.fullmatch(source_id):
        raise fail("'id' must be 1-64 of a-z, 0-9, '_', '-' (starting with a letter or digit)")
    where = f"{where} (source {source_id!r})"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise fail(f"'kind' must be one of {', '.join(KINDS)}")
    unknown = set(raw) - _COMMON_FIELDS - _KIND_FIELDS[kind]
    if unknown:
        raise fail(f"unknown field(s) for kind {kind}: {', '.join(sorted(unknown))}")
    interval, cron = raw.get("interval"), raw.get("cron")
    if interval is not None and cron is not None:
        raise fail("give 'interval' or 'cron', not both")
    try:
        interval_s = None
        if cron is not None:
            if not isinstance(cron, str):
                raise ValueError("'cron' must be a string like \"0 */6 * * *\"")
            cron = check_cron(cron)
        else:
            if interval is not None and not isinstance(interval, str):
                raise ValueError("'interval' must be a string like \"1h\"")
            interval_s = parse_interval(interval or DEFAULT_INTERVAL)
    except ValueError as error:
        raise fail(str(error)) from error
    outlet = raw.get("outlet")
    if outlet is not None and (
        not isinstance(outlet, str) or not outlet or len(outlet) > MAX_OUTLET
    ):
        raise fail(f"'outlet' must be a non-empty string of at most {MAX_OUTLET} characters")
    allow_private = raw.get("allow_private", False)
    if not isinstance(allow_private, bool):
        raise fail("'allow_private' must be true or false")
    allow_hosts = raw.get("allow_hosts", [])
    if not isinstance(allow_hosts, list) or not all(
        isinstance(h, str) and h.strip() for h in allow_hosts
    ):
        raise fail('\'allow_hosts\' must be a list of "host" or "host:port" strings')
    common: dict[str, Any] = {
        "id": source_id,
        "kind": kind,
        "interval_s": interval_s,
        "cron": cron,
        "outlet": outlet,
        "allow_private": allow_private,
        "allow_hosts": tuple(h.strip() for h in allow_hosts),
        "origin": origin,
    }
    if kind in FILE_KINDS:
        path = raw.get("path")
        if not isinstance(path, str) or not path.strip():
            raise fail("'path' must be a non-empty string")
        resolved = Path(path)
        if base is not None and not resolved.is_absolute():
            resolved = base / resolved
        return SourceConfig(**common, path=resolved)
    max_items = raw.get("max_items")
    if max_items is not None and (
        not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1
    ):
        raise fail("'max_items' must be a positive whole number")
    urls = raw.get("urls")
    if kind == "feed" and "url" in raw:
        if urls is not None:
            raise fail("give 'url' (one feed) or 'urls' (several), not both")
        urls = [raw["url"]]
    if not isinstance(urls, list) or not urls or len(urls) > MAX_URLS:
        raise fail(f"'urls' must be a list of 1 to {MAX_URLS} URLs")
    return SourceConfig(
        **common, urls=tuple(_check_url(u, fail) for u in urls), max_items=max_items
    )


# An http(s) URL with a host; no spaces or control characters (ASCII classes: the same in
# Python and in the JSON Schema of the API).
URL_PATTERN = r"^https?://[^\x00-\x20/?#]+[^\x00-\x20]*$"


def _check_url(value: Any, fail: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(URL_PATTERN, value):
        raise fail(f"{value!r} is not an http(s) URL")
    return value.strip()


def load_file(path: Path) -> list[SourceConfig]:
    """The sources of one TOML file (relative paths are relative to the file's folder)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SourceConfigError(f"{path}: cannot read ({error.strerror or error})") from error
    except tomllib.TOMLDecodeError as error:
        raise SourceConfigError(f"{path}: not valid TOML ({error})") from error
    unknown = set(document) - {"sources"}
    if unknown:
        raise SourceConfigError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    tables = document.get("sources", [])
    if not isinstance(tables, list):
        raise SourceConfigError(f"{path}: 'sources' must be an array of tables ([[sources]])")
    sources = [
        parse_source(table, where=f"{path}: sources[{index}]", base=path.parent, origin="file")
        for index, table in enumerate(tables)
    ]
    _check_unique(sources, str(path))
    return sources


def _check_unique(sources: Sequence[SourceConfig], where: str) -> None:
    seen: set[str] = set()
    for source in sources:
        if source.id in seen:
            raise SourceConfigError(f"{where}: source id {source.id!r} appears twice")
        seen.add(source.id)


def default_sources(cwd: Path) -> list[SourceConfig]:
    return [
        SourceConfig(
            id="seeds",
            kind="directory",
            path=cwd / "seeds",
            interval_s=parse_interval(DEFAULT_INTERVAL),
            origin="default",
        )
    ]


def configured_sources(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> list[SourceConfig]:
    """The file's sources: FACTSTORE_SOURCES (must exist), else ./sources.toml, else seeds/."""
    environ = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    named = environ.get(SOURCES_ENV, "").strip()
    if named:
        path = Path(named)
        if not path.is_absolute():
            path = cwd / path
        if not path.is_file():
            raise SourceConfigError(f"{SOURCES_ENV}={named}: no such file")
        return load_file(path)
    default = cwd / DEFAULT_SOURCES_FILE
    if default.is_file():
        return load_file(default)
    return default_sources(cwd)


@dataclass(frozen=True, slots=True)
class SourceSet:
    """The file's sources and the API's, merged (ids are unique across both)."""

    sources: tuple[SourceConfig, ...] = field(default_factory=tuple)

    def get(self, source_id: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def select(self, ids: Iterable[str]) -> list[SourceConfig]:
        wanted = list(ids)
        missing = [i for i in wanted if self.get(i) is None]
        if missing:
            known = ", ".join(s.id for s in self.sources) or "none"
            raise SourceConfigError(f"no source {', '.join(missing)} (configured: {known})")
        return [s for s in self.sources if s.id in wanted] if wanted else list(self.sources)


def api_sources(events: Sequence[RecordedEvent]) -> dict[str, SourceConfig]:
    """Fold the `sources` stream: the API-added sources still in force."""
    found: dict[str, SourceConfig] = {}
    for event in events:
        if event.type == runs.SOURCE_ADDED:
            source = event.data["source"]
            found[source["id"]] = parse_source(
                source, where="sources stream", base=None, origin="api"
            )
        elif event.type == runs.SOURCE_REMOVED:
            found.pop(event.data["source_id"], None)
    return found


def merge(file_sources: Sequence[SourceConfig], added: Mapping[str, SourceConfig]) -> SourceSet:
    """File sources first; an API source never shadows a file one (the API refuses such ids)."""
    ids = {s.id for s in file_sources}
    return SourceSet(tuple(file_sources) + tuple(s for i, s in added.items() if i not in ids))
