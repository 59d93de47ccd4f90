"""A revoked key is refused by every server process within a second of the commit.

Two apps on one database stand for two server processes, each with its own key cache that keeps a
resolved key for a minute. On PostgreSQL the revocation reaches the other process as a change
notification (`k <tenant>`, sent by the api_keys trigger); on SQLite nothing notifies and a cached key
lasts at most one second.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.db import session_scope, utcnow
from service.main import create_app
from service.tenancy.models import ApiKey

BOUND_SECONDS = 1.0


def _listening(client: TestClient) -> bool:
    """Wait (by attempts) until the app's key cache hears notifications; False if it never does."""
    for _ in range(400):
        if client.app.state.key_cache.live:
            return True
        time.sleep(0.025)
    return False


def _refused_within_bound(client: TestClient, headers: dict[str, str], committed: float) -> None:
    """Every request that starts a bound after the commit is refused; requests before may pass."""
    while True:
        started = time.monotonic()
        status = client.get("/v1/customers", headers=headers).status_code
        if status == 401:
            return
        assert status == 200 and started - committed < BOUND_SECONDS


def test_a_key_revoked_through_one_process_is_refused_by_the_other(db, settings, make_key) -> None:
    minute = settings.model_copy(update={"key_cache_seconds": 60})
    admin, crm, by_hand = make_key("admin"), make_key("crm"), make_key("crm")
    with (
        TestClient(create_app(minute, engine=db.engine)) as one,
        TestClient(create_app(minute, engine=db.engine)) as two,
    ):
        if db.backend == "postgres":
            assert _listening(two)
        assert two.get("/v1/customers", headers=crm).status_code == 200
        assert two.get("/v1/customers", headers=by_hand).status_code == 200
        keys = one.get("/v1/keys", headers=admin).json()
        crm_id = next(k["id"] for k in keys if k["prefix"] == crm["Authorization"][7:17])
        assert one.post(f"/v1/keys/{crm_id}/revoke", headers=admin).status_code == 200
        _refused_within_bound(two, crm, time.monotonic())
        hand_id = next(k["id"] for k in keys if k["prefix"] == by_hand["Authorization"][7:17])
        with session_scope(db.engine) as session:  # revoked in SQL, not through the service
            session.execute(sa.update(ApiKey).where(ApiKey.id == hand_id).values(revoked_at=utcnow()))
        _refused_within_bound(two, by_hand, time.monotonic())
        assert two.get("/v1/customers", headers=admin).status_code == 200
        # On PostgreSQL the other process heard the notifications: its cache would keep keys a minute.
        assert two.app.state.key_cache.live == (db.backend == "postgres")
