from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from factstore.config import Settings
from factstore.tokens import hash_token

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
TOKEN = "fs_test-token-for-the-desk"
OTHER_TOKEN = "fs_test-token-for-the-bot"


@pytest.fixture
def app(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv(
        "FACTSTORE_API_TOKENS", f"desk:{hash_token(TOKEN)},bot:{hash_token(OTHER_TOKEN)}"
    )
    app = create_app(Settings(database_url=database_url, max_body_bytes=300_000))
    yield app
    app.extensions["factstore"].store.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def seeded_client(client: FlaskClient) -> FlaskClient:
    for path in sorted(SEEDS.glob("*.txt")):
        response = client.post(
            "/v1/articles", json={"text": path.read_text(), "source_id": path.stem}, headers=AUTH
        )
        assert response.status_code == 201, response.get_json()
    return client
