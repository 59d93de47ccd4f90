"""The `tailorwise` command: migrate, tenants, keys, scoring."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings


@pytest.fixture
def cli(db, monkeypatch):
    """Invoke the CLI against the test database."""
    monkeypatch.setenv("TAILORWISE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_migrate_is_idempotent(cli) -> None:
    result = cli("migrate")
    assert result.exit_code == 0, result.output


def test_tenant_and_key_creation(cli, client: TestClient) -> None:
    created = cli("tenant", "create", "shop")
    assert created.exit_code == 0 and created.stdout.strip().isdigit()
    assert cli("tenant", "create", "shop").exit_code == 1
    key = cli("key", "create", "--tenant", "shop", "--role", "crm")
    assert key.exit_code == 0
    token = key.stdout.strip()
    assert token.startswith("tw_") and "\n" not in token
    assert client.get("/v1/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_key_for_unknown_tenant_or_role_fails(cli) -> None:
    assert cli("key", "create", "--tenant", "nope", "--role", "crm").exit_code == 1
    cli("tenant", "create", "shop")
    bad = cli("key", "create", "--tenant", "shop", "--role", "wizard")
    assert bad.exit_code == 1 and "Unknown role" in bad.stderr


def test_score_unknown_tenant_fails(cli) -> None:
    result = cli("score", "--tenant", "nope")
    assert result.exit_code == 1 and "No tenant" in result.stderr
