"""Runs executed in an API process hold a lease: a run whose process died or lost its database is failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.db import session_scope, utcnow
from service.jobs import repository, runner
from service.jobs.leases import Leases, lost_error
from service.jobs.models import Run
from service.jobs.runner import JobRunner
from service.jobs.service import run_inline
from service.main import create_app
from service.tenancy import repository as tenants
from tests.service.jobs.test_runner import queued, stored

LEASE = {"run_heartbeat_seconds": 0.1, "run_lease_seconds": 1.0}
Writer = Callable[[Session], dict[str, Any]]


def slow(engine: Engine, run: Run, progress: runner.Progress) -> Writer:
    """A job that computes for several lease lengths."""
    time.sleep(1.0)
    return lambda session: {"answer": 42}


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


def test_a_queued_run_never_picked_up_is_taken_over_and_run(db, settings, make_key) -> None:
    headers = make_key("admin")
    run_id = orphan(db, "queued", age_seconds=600)
    with TestClient(create_app(settings.model_copy(update=LEASE), engine=db.engine)) as client:
        deadline = time.monotonic() + 10
        run = client.get(f"/v1/tailoring/runs/{run_id}", headers=headers).json()
        while run["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
            run = client.get(f"/v1/tailoring/runs/{run_id}", headers=headers).json()
        assert run["status"] == "succeeded", run


def test_a_held_run_outlives_its_lease_length(db, acme: int) -> None:
    run_id = queued(db, acme)
    job_runner = JobRunner(db.engine, {"scoring": slow}, heartbeat_seconds=0.05, lease_seconds=0.3)
    try:
        assert job_runner.submit(run_id, "scoring").result(timeout=10)
    finally:
        job_runner.shutdown()
    assert stored(db, run_id).status == "succeeded"


def test_a_run_failed_by_its_lease_meanwhile_publishes_nothing(db, acme: int) -> None:
    run_id = queued(db, acme)

    def failed_meanwhile(engine: Engine, run: Run, progress: runner.Progress) -> Writer:
        with session_scope(engine) as session:
            repository.update(session, run.id or 0, status="failed", error=lost_error(1))
        return lambda session: {"answer": 42}

    assert not runner.execute(db.engine, run_id, failed_meanwhile)
    run = stored(db, run_id)
    assert run.status == "failed" and run.summary is None and run.error == lost_error(1)


def test_a_run_that_lost_the_database_is_failed_once_its_lease_lapses(db, acme: int, monkeypatch) -> None:
    run_id = queued(db, acme)

    def database_gone(*args: Any, **kwargs: Any) -> bool:
        raise sa.exc.OperationalError("UPDATE runs", {}, Exception("server closed the connection"))

    def losing(engine: Engine, run: Run, progress: runner.Progress) -> Writer:
        monkeypatch.setattr(runner.repository, "update_running", database_gone)
        return database_gone

    leases = Leases(db.engine, 0.05, 0.3, "all")
    job_runner = JobRunner(db.engine, {"scoring": losing}, heartbeat_seconds=60, lease_seconds=0.3)
    try:
        future = job_runner.submit(run_id, "scoring")
        assert isinstance(future.exception(timeout=10), sa.exc.OperationalError)
        monkeypatch.undo()
        assert stored(db, run_id).status == "running"
        assert leases.beat() == []
        time.sleep(0.4)
        assert leases.beat() == [run_id]
    finally:
        job_runner.shutdown()
    run = stored(db, run_id)
    assert run.status == "failed" and run.error == lost_error(0.3) and run.finished_at is not None


def test_beside_workers_only_runs_that_held_a_lease_are_reaped(db, acme: int) -> None:
    in_worker_queue = queued(db, acme, kind="scoring")
    from_the_cli = queued(db, acme, kind="training")
    long_ago = utcnow() - timedelta(seconds=600)
    with session_scope(db.engine) as session:
        repository.update(session, in_worker_queue, created_at=long_ago)
        repository.update(session, from_the_cli, status="running", lease_until=long_ago)
    assert Leases(db.engine, 1, 5, "leased").beat() == [from_the_cli]
    assert stored(db, in_worker_queue).status == "queued"
    assert Leases(db.engine, 1, 5, "none").beat() == []


def test_an_inline_run_holds_a_lease_while_it_runs(db, acme: int) -> None:
    leased: list[object] = []

    def noting_the_lease(engine: Engine, run: Run, progress: runner.Progress) -> Writer:
        time.sleep(0.3)
        leased.append(stored(db, run.id or 0).lease_until)
        return lambda session: {}

    def queue(session: Session, tenant_id: int) -> Run:
        added = repository.add(session, Run(tenant_id=tenant_id, kind="scoring", params={}, requested_by="t"))
        assert added is not None
        return added

    terms = Settings(environment="test", run_heartbeat_seconds=0.05, run_lease_seconds=5)
    run_inline(db.engine, "acme", queue, noting_the_lease, lambda _k: nullcontext(lambda _f, _m: None), terms)
    assert leased and leased[0] is not None


def test_settings_keep_the_heartbeat_within_the_lease() -> None:
    defaults = Settings(environment="test")
    assert defaults.run_heartbeat_seconds * 2 <= defaults.run_lease_seconds
    with pytest.raises(ValueError, match="at most half the run lease"):
        Settings(environment="test", run_heartbeat_seconds=40, run_lease_seconds=60)
