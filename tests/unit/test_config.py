"""Settings from the environment: database URLs from variables or mounted secret files."""

from __future__ import annotations

from pathlib import Path

import pytest

from factstore.config import ConfigError, Settings


def test_database_urls_come_from_the_variable_or_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "read_url"
    secret.write_text("postgresql+psycopg://reader:s3cret@replica/factstore\n")
    monkeypatch.setenv("FACTSTORE_DATABASE_URL", "postgresql+psycopg://app@db/factstore")
    monkeypatch.setenv("FACTSTORE_READ_DATABASE_URL_FILE", str(secret))
    monkeypatch.setenv("FACTSTORE_MIN_POSITION_WAIT_MS", "250")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+psycopg://app@db/factstore"
    assert settings.read_database_url == "postgresql+psycopg://reader:s3cret@replica/factstore"
    assert settings.min_position_wait_ms == 250

    # The variable wins over the file; with neither, SQLite and no replica.
    monkeypatch.setenv("FACTSTORE_READ_DATABASE_URL", "postgresql+psycopg://other/factstore")
    assert Settings.from_env().read_database_url == "postgresql+psycopg://other/factstore"
    for name in ("FACTSTORE_DATABASE_URL", "FACTSTORE_READ_DATABASE_URL"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("FACTSTORE_READ_DATABASE_URL_FILE")
    assert (Settings.from_env().database_url, Settings.from_env().read_database_url) == (
        "sqlite:///factstore.db",
        None,
    )


@pytest.mark.parametrize(
    ("name", "attribute", "default"),
    [
        ("FACTSTORE_WARM_CLAIMS", "warm_claims", 100_000),
        ("FACTSTORE_HEAP_TRIM_SECONDS", "heap_trim_seconds", 30),
        ("FACTSTORE_WORKER_MAX_REQUESTS", "worker_max_requests", 50_000),
    ],
)
def test_whole_number_settings_take_zero_and_refuse_the_rest(
    monkeypatch: pytest.MonkeyPatch, name: str, attribute: str, default: int
) -> None:
    assert getattr(Settings.from_env(), attribute) == default
    monkeypatch.setenv(name, "0")  # off
    assert getattr(Settings.from_env(), attribute) == 0
    for bad in ("abc", "-5", "1.5", "\u00b2", "9" * 5000):  # "²" passes str.isdigit()
        monkeypatch.setenv(name, bad)
        with pytest.raises(ConfigError, match=rf"{name}=.*whole number"):
            Settings.from_env()


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_secret_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None
) -> None:
    path = tmp_path / "url"
    if content is not None:
        path.write_text(content)
    monkeypatch.delenv("FACTSTORE_DATABASE_URL", raising=False)
    monkeypatch.setenv("FACTSTORE_DATABASE_URL_FILE", str(path))
    with pytest.raises(ConfigError, match="FACTSTORE_DATABASE_URL_FILE"):
        Settings.from_env()


@pytest.mark.parametrize("tolerance", ["-0.1", "NaN", "Infinity", '"a lot"'])
def test_a_policy_tolerance_that_cannot_widen_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tolerance: str
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(f'{{"conflict_tolerance": {tolerance}}}')
    monkeypatch.setenv("FACTSTORE_POLICY", str(policy))
    with pytest.raises(ConfigError, match="not a usable policy file"):
        Settings.from_env()
    policy.write_text('{"conflict_tolerance": 0}')  # exact agreement only: allowed
    assert Settings.from_env().policy.conflict_tolerance == 0
