"""docker-compose.yml and the Dockerfile, checked by structure (Docker does not run here):
the services and their order, healthchecks, the replica profile, the non-root slim image, and
that every FACTSTORE_* variable they set is one the code reads (found by scanning the code,
so the check follows the code instead of a list kept by hand)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from factstore.cli import main as cli

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
VARIABLE = re.compile(r"\bFACTSTORE_[A-Z0-9_]*[A-Z0-9]\b")
# A variable the code reads appears in it as a string literal: "FACTSTORE_…".
READ_IN_CODE = re.compile(r"""["'](FACTSTORE_[A-Z0-9_]*[A-Z0-9])["']""")
APP_SERVICES = ("api", "scheduler", "projector")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def _variables_read_by_code() -> set[str]:
    names: set[str] = set()
    for package in ("factstore", "api", "migrations"):
        for path in (REPO / package).rglob("*.py"):
            names.update(READ_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return names


def test_the_services_are_all_there(services: dict[str, Any]) -> None:
    assert set(services) == {"db", "migrate", *APP_SERVICES, "replica"}
    assert services["db"]["image"].startswith("postgres:")
    assert _command(services["migrate"]) == ["alembic", "upgrade", "head"]
    api = _command(services["api"])
    assert api[:2] == ["factstore", "serve"] and int(api[api.index("--workers") + 1]) >= 2
    assert _command(services["scheduler"]) == ["factstore", "scheduler"]
    assert _command(services["projector"]) == ["factstore", "project", "--follow"]
    for command in (api, _command(services["projector"])):
        assert command[1] in cli.commands, f"factstore has no {command[1]!r} command"


def test_db_keeps_its_data_in_a_named_volume_and_has_a_healthcheck(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    db = services["db"]
    volume = next(v.split(":")[0] for v in db["volumes"] if v.endswith("/var/lib/postgresql/data"))
    assert volume in compose["volumes"], "the database needs a named volume"
    assert "pg_isready" in str(db["healthcheck"]["test"])


def test_everything_waits_for_a_healthy_db_and_a_completed_migration(
    services: dict[str, Any],
) -> None:
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"  # once
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["db"] == {"condition": "service_healthy"}, name
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name


def test_the_api_is_healthchecked_on_v1_health(services: dict[str, Any]) -> None:
    check = services["api"]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert "/v1/health" in " ".join(check["test"])
    assert "retries" in check and "interval" in check


def test_the_replica_streams_from_db_behind_a_profile(services: dict[str, Any]) -> None:
    replica = services["replica"]
    assert replica["profiles"] == ["replica"]
    assert "profiles" not in services["db"] and "profiles" not in services["api"]
    assert replica["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "pg_isready" in str(replica["healthcheck"]["test"])
    # Files the services mount exist in the repository; the replica's script clones the
    # primary as a standby (-R) and db accepts replication connections.
    for name in ("db", "replica"):
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).is_file(), source
    script = (REPO / "deploy/postgres/start-replica.sh").read_text()
    assert re.search(r"pg_basebackup .*-R", script) and "exec postgres" in script
    hba = (REPO / "deploy/postgres/pg_hba.conf").read_text()
    assert re.search(r"^host\s+replication\s", hba, re.MULTILINE)


def test_app_services_reach_db_by_a_postgresql_url(services: dict[str, Any]) -> None:
    for name in ("migrate", *APP_SERVICES):
        url = make_url(services[name]["environment"]["FACTSTORE_DATABASE_URL"])
        assert (url.drivername, url.host) == ("postgresql+psycopg", "db"), name


def test_every_factstore_variable_set_is_one_the_code_reads() -> None:
    read = _variables_read_by_code()
    assert {"FACTSTORE_DATABASE_URL", "FACTSTORE_READ_DATABASE_URL"} <= read  # the scan works
    for path in (COMPOSE, DOCKERFILE, *sorted((REPO / "deploy").rglob("*"))):
        if path.is_file():
            unknown = set(VARIABLE.findall(path.read_text(encoding="utf-8"))) - read
            assert not unknown, f"{path.name} sets variables no code reads: {sorted(unknown)}"


def _stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split into build stages."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = [line.strip() for line in joined.splitlines()]
    stages: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_image_is_slim_runs_as_a_user_and_has_no_build_tools() -> None:
    stages = _stages(DOCKERFILE.read_text(encoding="utf-8"))
    assert len(stages) >= 2, "a build stage and a runtime stage"
    final = stages[-1]
    assert re.match(r"FROM python:3\.1[1-9][\w.-]*-slim\b", final[0], re.IGNORECASE)
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the final image must not run as root"
    text = "\n".join(final).lower()
    for tool in ("gcc", "build-essential", "apt-get install", "make ", "g++"):
        assert tool not in text, f"{tool!r} in the runtime stage"
    assert "--no-cache-dir" in text
    assert any(line.upper().startswith("HEALTHCHECK") and "/v1/health" in line for line in final)
