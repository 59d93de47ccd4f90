"""Key lifecycle over the API and the CLI: list, create, revoke, rotate with a grace period, expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli_app
from service.config import get_settings
from service.db import session_scope
from service.tenancy.models import ApiKey
from tests.polling import wait_until


def _key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _id_of(client: TestClient, admin: dict[str, str], key: str) -> int:
    """The id of a key, found in the admin's listing by its prefix."""
    return next(k["id"] for k in client.get("/v1/keys", headers=admin).json() if k["prefix"] == key[:10])


def test_admin_lists_keys_without_the_keys_themselves(client: TestClient, make_key) -> None:
    admin, crm = make_key("admin"), make_key("crm")
    other_tenant = make_key("admin", tenant="other")
    assert client.get("/v1/customers", headers=crm).status_code == 200
    listed = client.get("/v1/keys", headers=admin)
    assert listed.status_code == 200
    keys = listed.json()
    assert [k["role"] for k in keys] == ["admin", "crm"] and {k["status"] for k in keys} == {"active"}
    assert set(keys[0]) == {
        "id",
        "prefix",
        "role",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "status",
    }
    assert _key_of(crm) not in listed.text and _key_of(crm)[:10] in listed.text
    assert client.get("/v1/keys", headers=crm).status_code == 403
    assert len(client.get("/v1/keys", headers=other_tenant).json()) == 1


def test_last_use_is_written(client: TestClient, make_key) -> None:
    admin, crm = make_key("admin"), make_key("crm")
    client.get("/v1/customers", headers=crm)
    crm_id = _id_of(client, admin, _key_of(crm))

    def written() -> bool:  # off the request, by a task of the app's loop
        listed = {k["id"]: k for k in client.get("/v1/keys", headers=admin).json()}
        return listed[crm_id]["last_used_at"] is not None

    wait_until(written)


def test_revoked_key_is_refused_and_revocation_audited(client: TestClient, make_key) -> None:
    admin, crm = make_key("admin"), make_key("crm")
    crm_id = _id_of(client, admin, _key_of(crm))
    revoked = client.post(f"/v1/keys/{crm_id}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert client.get("/v1/customers", headers=crm).status_code == 401
    assert client.post(f"/v1/keys/{crm_id}/revoke", headers=admin).status_code == 409
    assert client.post("/v1/keys/999999/revoke", headers=admin).status_code == 404
    actions = [r["action"] for r in client.get("/v1/audit", headers=admin).json()["items"]]
    assert "key.revoked" in actions


def test_rotation_keeps_the_old_key_for_the_grace_period(client: TestClient, make_key) -> None:
    admin, crm = make_key("admin"), make_key("crm")
    crm_id = _id_of(client, admin, _key_of(crm))
    rotated = client.post(f"/v1/keys/{crm_id}/rotate", headers=admin)
    assert rotated.status_code == 200
    body = rotated.json()
    new = {"Authorization": f"Bearer {body['key']['key']}"}
    assert body["key"]["role"] == "crm" and body["previous"]["status"] == "active"
    ends = datetime.fromisoformat(body["previous"]["expires_at"])
    assert abs(ends - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    assert client.get("/v1/customers", headers=crm).status_code == 200
    assert client.get("/v1/customers", headers=new).status_code == 200
    again = client.post(f"/v1/keys/{body['key']['id']}/rotate", headers=admin, json={"grace_seconds": 0})
    newest = {"Authorization": f"Bearer {again.json()['key']['key']}"}
    assert client.get("/v1/customers", headers=new).status_code == 401
    assert client.get("/v1/customers", headers=newest).status_code == 200
    assert client.get("/v1/customers", headers=crm).status_code == 200  # its own grace runs on


def test_a_key_stops_working_at_its_expiry(client: TestClient, make_key, db) -> None:
    admin = make_key("admin")
    past = client.post("/v1/keys", headers=admin, json={"role": "crm", "expires_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422
    soon = datetime.now(UTC) + timedelta(hours=1)
    created = client.post("/v1/keys", headers=admin, json={"role": "crm", "expires_at": soon.isoformat()})
    assert created.status_code == 201
    crm = {"Authorization": f"Bearer {created.json()['key']}"}
    assert client.get("/v1/customers", headers=crm).status_code == 200
    with session_scope(db.engine) as session:
        session.execute(
            sa.update(ApiKey).where(ApiKey.id == created.json()["id"]).values(expires_at=datetime.now(UTC))
        )
    assert client.get("/v1/customers", headers=crm).status_code == 401
    listed = {k["id"]: k["status"] for k in client.get("/v1/keys", headers=admin).json()}
    assert listed[created.json()["id"]] == "expired"


def test_a_cached_key_is_not_kept_past_its_expiry(db, settings, make_key) -> None:
    from service.auth import KeyCache

    admin = make_key("admin")
    with TestClient(create_app_with(settings, db)) as client:
        soon = datetime.now(UTC) + timedelta(seconds=2)
        created = client.post("/v1/keys", headers=admin, json={"role": "crm", "expires_at": soon.isoformat()})
        assert created.status_code == 201, created.text
        crm = {"Authorization": f"Bearer {created.json()['key']}"}
        cache: KeyCache = client.app.state.key_cache
        cache.live = True  # as if notifications arrived: entries would otherwise last the 60 s TTL
        assert client.get("/v1/customers", headers=crm).status_code == 200
        time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)
        assert client.get("/v1/customers", headers=crm).status_code == 401


def create_app_with(settings, db):
    """An app whose key cache keeps entries a minute."""
    from service.main import create_app

    return create_app(settings.model_copy(update={"key_cache_seconds": 60}), engine=db.engine)


@pytest.fixture
def cli(db, monkeypatch):
    """Invoke the CLI against the test database."""
    monkeypatch.setenv("TAILORWISE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_cli_lists_revokes_and_rotates(cli, client: TestClient) -> None:
    cli("tenant", "create", "shop")
    first = cli("key", "create", "--tenant", "shop", "--role", "crm").stdout.strip()
    cli("key", "create", "--tenant", "shop", "--role", "storefront", "--expires-at", "2099-01-01T00:00:00")
    listed = cli("key", "list", "--tenant", "shop")
    assert listed.exit_code == 0 and first not in listed.stdout
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and "crm" in lines[0] and "expires=2099-01-01T00:00:00+00:00" in lines[1]
    first_id, second_id = (line.split()[0] for line in lines)
    rotated = cli("key", "rotate", "--tenant", "shop", first_id, "--grace-hours", "0")
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip()
    assert client.get("/v1/customers", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/v1/customers", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert cli("key", "revoke", "--tenant", "shop", second_id).exit_code == 0
    assert cli("key", "revoke", "--tenant", "shop", second_id).exit_code == 1
    assert "revoked" in cli("key", "list", "--tenant", "shop").stdout
