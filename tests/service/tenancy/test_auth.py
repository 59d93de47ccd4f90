"""Keys, roles and tenant isolation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from service.auth import Caller, KeyCache
from service.db import session_scope
from service.tenancy import service as tenancy
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


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def refreshed(cache: CountingKeyCache, reads: int) -> None:
    """Wait (10 s at most) until the cache made this many reads and keeps no refresh in flight."""
    for _ in range(1_000):
        if cache.reads >= reads and not cache._refreshing:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the key was not read again in time")


def test_a_key_in_use_is_read_again_before_it_expires_so_no_request_waits(db, make_key) -> None:
    key = make_key("crm")["Authorization"].removeprefix("Bearer ")
    clock = Clock()
    cache = CountingKeyCache(db.engine, ttl_seconds=60, clock=clock)
    cache.live = True

    async def scenario() -> list[tuple[bool, Caller | None]]:
        caller = await cache.resolve(key)
        clock.now += 44  # before three quarters of the entry's life: kept, no read
        seen = [cache.cached(key)]
        await asyncio.sleep(0)
        assert cache.reads == 1
        clock.now += 2  # past three quarters: still kept, and read again in the background, once
        seen += [cache.cached(key), cache.cached(key)]
        await refreshed(cache, 2)
        clock.now += 50  # past the first read's minute, within the second's
        seen.append(cache.cached(key))
        assert caller is not None
        return seen

    seen = asyncio.run(scenario())
    assert all(known and caller is not None and caller.role == Role.crm for known, caller in seen)
    assert cache.reads == 2


def test_a_key_revoked_meanwhile_is_refused_once_read_again_ahead(db, make_key) -> None:
    key = make_key("crm")["Authorization"].removeprefix("Bearer ")
    clock = Clock()
    cache = CountingKeyCache(db.engine, ttl_seconds=60, clock=clock)
    cache.live = True

    async def scenario() -> tuple[bool, Caller | None]:
        first = await cache.resolve(key)
        assert first is not None
        with session_scope(db.engine) as session:
            tenancy.revoke_key(session, first.tenant_id, first.key_id)
        clock.now += 50
        assert cache.cached(key) == (True, first)  # the notice was lost: kept until read again
        await refreshed(cache, 2)
        return cache.cached(key)

    assert asyncio.run(scenario()) == (True, None)


def test_a_key_expiring_within_its_entry_is_not_read_ahead(db) -> None:
    with session_scope(db.engine) as session:
        tenancy.create_tenant(session, "soon")
        key = tenancy.issue_key(session, "soon", "crm", datetime.now(UTC) + timedelta(seconds=20)).key
    clock = Clock()
    cache = CountingKeyCache(db.engine, ttl_seconds=60, clock=clock)
    cache.live = True

    async def scenario() -> tuple[bool, Caller | None]:
        assert await cache.resolve(key) is not None
        clock.now += 18  # past three quarters of the entry's life, which the key's expiry cut to 20 s
        seen = cache.cached(key)
        await asyncio.sleep(0.05)
        return seen

    known, caller = asyncio.run(scenario())
    assert known and caller is not None and cache.reads == 1
