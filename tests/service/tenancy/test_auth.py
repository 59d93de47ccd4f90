"""Keys, roles and tenant isolation."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from service.auth import Caller, KeyCache
from service.tenancy.models import Role

PROFILE = {"traits": {"segment": "gold"}, "consent": {"personalization": True, "profiling": True}}


def test_no_key_is_401_problem(client: TestClient) -> None:
    response = client.get("/v1/customers")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_key_is_401(client: TestClient) -> None:
    response = client.get("/v1/customers", headers={"Authorization": "Bearer tw_made_up"})
    assert response.status_code == 401


def test_wrong_role_is_403(client: TestClient, make_key) -> None:
    response = client.get("/v1/customers", headers=make_key("storefront"))
    assert response.status_code == 403
    assert "crm" in response.json()["detail"]


def test_marketer_cannot_write_profiles(client: TestClient, make_key) -> None:
    assert client.put("/v1/customers/c-1", json=PROFILE, headers=make_key("marketer")).status_code == 403


def test_tenant_a_never_sees_tenant_b(client: TestClient, make_key) -> None:
    a, b = make_key("crm", tenant="a"), make_key("crm", tenant="b")
    client.put("/v1/customers/shared-id", json=PROFILE, headers=a)
    client.put("/v1/customers/only-a", json=PROFILE, headers=a)
    assert client.get("/v1/customers/only-a", headers=b).status_code == 404
    assert client.get("/v1/customers/only-a/export", headers=b).status_code == 404
    assert client.delete("/v1/customers/only-a", headers=b).status_code == 404
    assert client.get("/v1/customers", headers=b).json()["items"] == []
    client.put("/v1/customers/shared-id", json={"traits": {"segment": "b"}}, headers=b)
    assert client.get("/v1/customers/shared-id", headers=a).json()["traits"] == {"segment": "gold"}
    assert client.get("/v1/customers/only-a", headers=a).status_code == 200


def test_admin_may_do_everything(client: TestClient, make_key) -> None:
    admin = make_key("admin")
    assert client.put("/v1/customers/c-1", json=PROFILE, headers=admin).status_code == 201
    assert client.get("/v1/customers", headers=admin).status_code == 200


class CountingKeyCache(KeyCache):
    """A key cache that counts its database reads."""

    reads = 0

    def _load(self, digests: list[str]) -> list[tuple[Caller | None, float]]:
        self.reads += 1
        return super()._load(digests)


def test_requests_finding_a_key_expired_share_one_database_read(db, make_key) -> None:
    key = make_key("crm")["Authorization"].removeprefix("Bearer ")
    cache = CountingKeyCache(db.engine, ttl_seconds=60)

    async def many() -> list[Caller | None]:
        return list(await asyncio.gather(*(cache.resolve(key) for _ in range(20))))

    callers = asyncio.run(many())
    assert cache.reads == 1 and len(set(callers)) == 1 and callers[0] is not None
    assert callers[0].role == Role.crm
    assert asyncio.run(cache.resolve("tw_made_up")) is None
    assert cache.cached(key) == (True, callers[0])
