"""Settings from the environment: one place that names every variable factstore reads."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from factstore.domain.figures import PolicyConfig

DEFAULT_DATABASE_URL = "sqlite:///factstore.db"


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # The best-figure policy: defaults, or a JSON file named by FACTSTORE_POLICY.
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    # Largest request body the API accepts (FACTSTORE_API_MAX_BODY_BYTES).
    max_body_bytes: int = 2 * 1024 * 1024

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("FACTSTORE_DATABASE_URL") or DEFAULT_DATABASE_URL,
            policy=load_policy(os.environ.get("FACTSTORE_POLICY")),
            max_body_bytes=_positive_int("FACTSTORE_API_MAX_BODY_BYTES", 2 * 1024 * 1024),
        )


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name}={raw!r}: expected a positive whole number")
    return int(raw)


def load_policy(path: str | None) -> PolicyConfig:
    if not path:
        return PolicyConfig()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return PolicyConfig.from_mapping(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"FACTSTORE_POLICY={path}: not a usable policy file ({error})") from error
