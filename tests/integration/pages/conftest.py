"""The pages use the API tests' app, client and seeded client (one definition of each)."""

from tests.integration.api.conftest import app, client, seeded_client

__all__ = ["app", "client", "seeded_client"]
