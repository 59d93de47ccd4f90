"""Runs executed in an API process hold a lease: a run whose process died or lost its database is failed."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient

from service.config import Settings
from service.db import session_scope, utcnow
from service.jobs import repository
from service.jobs.models import Run
from service.main import create_app
from service.tenancy import repository as tenants

LEASE = {"run_heartbeat_seconds": 0.1, "run_lease_seconds": 1.0}


def orphan(db, status: str, age_seconds: float) -> int:
    """A scoring run of acme left queued or running by a process that is gone, started `age_seconds` ago."""
    started = utcnow() - timedelta(seconds=age_seconds)
    with session_scope(db.engine) as session:
        tenant = tenants.get_tenant_by_name(session, "acme")
        assert tenant is not None
        run = Run(tenant_id=tenant.id or 0, kind="scoring", params={}, requested_by="test")
        run.created_at = started
        added = repository.add(session, run)
        assert added is not None and added.id is not None
        added.status, added.started_at = status, started if status == "running" else None
        return added.id


def test_a_run_left_running_by_a_dead_process_is_failed_and_frees_its_kind(db, settings, make_key) -> None:
    headers = make_key("admin")
    run_id = orphan(db, "running", age_seconds=600)
    with TestClient(create_app(settings.model_copy(update=LEASE), engine=db.engine)) as client:
        deadline = time.monotonic() + 5
        run = client.get(f"/v1/tailoring/runs/{run_id}", headers=headers).json()
        while run["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
            run = client.get(f"/v1/tailoring/runs/{run_id}", headers=headers).json()
        assert run["status"] == "failed", run
        assert "no heartbeat" in run["error"] and "acme" not in run["error"]
        started = client.post("/v1/tailoring/runs", json={}, headers=headers)
        assert started.status_code == 202, started.json()


def test_a_queued_run_never_picked_up_is_failed_after_the_lease(db, settings, make_key) -> None:
    headers = make_key("admin")
    run_id = orphan(db, "queued", age_seconds=600)
    with TestClient(create_app(settings.model_copy(update=LEASE), engine=db.engine)) as client:
        deadline = time.monotonic() + 5
        run = client.get(f"/v1/tailoring/runs/{run_id}", headers=headers).json()
        while run["status"] == "queued" and time.monotonic() < deadline:
            time.sleep(0.1)
            run = client.get(f"/v1/tailoring/runs/{run_id}", headers=headers).json()
        assert run["status"] == "failed", run


def test_settings_bound_the_heartbeat_below_the_lease() -> None:
    assert Settings(environment="test").run_heartbeat_seconds < Settings(environment="test").run_lease_seconds
