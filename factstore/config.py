"""Settings from the environment: one place that names every variable factstore reads."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from factstore.domain.figures import PolicyConfig
from factstore.heap import DEFAULT_TRIM_SECONDS
from factstore.recycle import DEFAULT_MAX_RSS_MIB
from factstore.whole_numbers import HUGE, parse_whole_number

DEFAULT_DATABASE_URL = "sqlite:///factstore.db"
DEFAULT_MIN_POSITION_WAIT_MS = 1000
DEFAULT_WARM_CLAIMS = 100_000
DEFAULT_WORKER_MAX_REQUESTS = 50_000


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # The best-figure policy: defaults, or a JSON file named by FACTSTORE_POLICY.
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    # Largest request body the API accepts (FACTSTORE_API_MAX_BODY_BYTES).
    max_body_bytes: int = 2 * 1024 * 1024
    # A read replica for the API's read-only queries (FACTSTORE_READ_DATABASE_URL); writes and
    # the projection runner always use database_url.
    read_database_url: str | None = None
    # How long a read asking for `min_position` may wait for it (FACTSTORE_MIN_POSITION_WAIT_MS).
    min_position_wait_ms: int = DEFAULT_MIN_POSITION_WAIT_MS
    # Claims of big topics whose folded state a process that applies projections keeps between
    # batches (FACTSTORE_WARM_CLAIMS; 0: none).
    warm_claims: int = DEFAULT_WARM_CLAIMS
    # Seconds between heap trims in the long-running processes (FACTSTORE_HEAP_TRIM_SECONDS;
    # 0: never; factstore.heap).
    heap_trim_seconds: int = DEFAULT_TRIM_SECONDS
    # Requests a server worker answers before gunicorn replaces it with a fresh one
    # (FACTSTORE_WORKER_MAX_REQUESTS; 0: never): what fragmentation leaves in its heap is bounded.
    worker_max_requests: int = DEFAULT_WORKER_MAX_REQUESTS
    # Resident memory past which the follower and the scheduler restart themselves between
    # units of work (FACTSTORE_PROCESS_MAX_RSS_MIB; 0: never; factstore.recycle).
    process_max_rss_mib: int = DEFAULT_MAX_RSS_MIB

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=_secret("FACTSTORE_DATABASE_URL", "FACTSTORE_DATABASE_URL_FILE")
            or DEFAULT_DATABASE_URL,
            policy=load_policy(os.environ.get("FACTSTORE_POLICY")),
            max_body_bytes=_positive_int("FACTSTORE_API_MAX_BODY_BYTES", 2 * 1024 * 1024),
            read_database_url=_secret(
                "FACTSTORE_READ_DATABASE_URL", "FACTSTORE_READ_DATABASE_URL_FILE"
            ),
            min_position_wait_ms=_positive_int(
                "FACTSTORE_MIN_POSITION_WAIT_MS", DEFAULT_MIN_POSITION_WAIT_MS
            ),
            warm_claims=_whole_number("FACTSTORE_WARM_CLAIMS", DEFAULT_WARM_CLAIMS, minimum=0),
            heap_trim_seconds=_whole_number(
                "FACTSTORE_HEAP_TRIM_SECONDS", DEFAULT_TRIM_SECONDS, minimum=0
            ),
            worker_max_requests=_whole_number(
                "FACTSTORE_WORKER_MAX_REQUESTS", DEFAULT_WORKER_MAX_REQUESTS, minimum=0
            ),
            process_max_rss_mib=_whole_number(
                "FACTSTORE_PROCESS_MAX_RSS_MIB", DEFAULT_MAX_RSS_MIB, minimum=0
            ),
        )


def _secret(name: str, file_name: str) -> str | None:
    """A value from the variable `name`, or else from the file named by `file_name` (a mounted
    secret: database URLs carry passwords). Surrounding whitespace is dropped; empty is unset."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = os.environ.get(file_name, "").strip()
    if not path:
        return None
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(f"{file_name}={path}: cannot read it ({error.strerror})") from error
    if not value:
        raise ConfigError(f"{file_name}={path}: the file is empty")
    return value


def _positive_int(name: str, default: int) -> int:
    return _whole_number(name, default, minimum=1)


def _whole_number(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    value = parse_whole_number(raw)
    if value is None or value < minimum or value == HUGE:
        kind = "positive whole number" if minimum == 1 else f"whole number ({minimum} or more)"
        raise ConfigError(f"{name}={raw!r}: expected a {kind}")
    return value


def load_policy(path: str | None) -> PolicyConfig:
    if not path:
        return PolicyConfig()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return PolicyConfig.from_mapping(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"FACTSTORE_POLICY={path}: not a usable policy file ({error})") from error
