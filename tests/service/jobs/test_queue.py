"""Runs on the PostgreSQL queue: one run per tenant and kind, workers, leases, schedules, enqueue-only API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import col, select

from service.config import Settings
from service.db import session_scope, utcnow
from service.jobs.models import Run, Schedule
from service.main import create_app
from service.tailoring.service import SCORING
from service.tenancy import repository as tenants
from service.workloads.schedules import fire_due

WORKER = """
import asyncio, sys, time
from service.config import Settings
from service.workloads import kinds, worker

def slow(engine, run, progress):
    time.sleep(float(sys.argv[2]))
    def write(session):
        return {"pid": __import__("os").getpid()}
    return write

kinds.JOBS["scoring"] = slow
settings = Settings(database_url=sys.argv[1], worker_heartbeat_seconds=0.5, worker_lease_seconds=2,
                    run_attempts=int(sys.argv[3]), schedule_poll_seconds=0.5)
asyncio.run(worker.work(settings))
"""


def start_worker(url: str, seconds: float, attempts: int = 2) -> subprocess.Popen[bytes]:
    """A worker process whose scoring job sleeps `seconds` and records its pid."""
    return subprocess.Popen([sys.executable, "-c", WORKER, url, str(seconds), str(attempts)])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    """Poll `check` until true or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def pg(db):  # type: ignore[no-untyped-def]
    """The PostgreSQL database only, its queue emptied after."""
    if db.backend != "postgres":
        pytest.skip("the queue lives in PostgreSQL")
    yield db
    with db.engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE procrastinate_jobs, procrastinate_workers CASCADE"))


def runs(engine) -> list[Run]:  # type: ignore[no-untyped-def]
    """Every run, oldest first."""
    with session_scope(engine) as session:
        found = list(session.exec(select(Run).order_by(col(Run.id))).all())
        session.expunge_all()
    return found


def test_a_second_start_while_one_is_queued_is_409(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    marketer = make_key("marketer")
    first = client.post("/v1/tailoring/runs", json={}, headers=marketer)
    assert first.status_code == 202
    client.app.state.job_runner.shutdown()  # type: ignore[attr-defined]
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        session.execute(sa.update(Run).values(status="running"))
    second = client.post("/v1/tailoring/runs", json={}, headers=marketer)
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    assert f"run {first.json()['id']} is running" in second.json()["detail"]


@pytest.fixture
def worker_client(pg, make_key) -> Iterator[tuple[TestClient, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """An API on PostgreSQL that runs nothing itself (runs go to workers), and a marketer's key."""
    settings = Settings(database_url=pg.url, environment="test", key_cache_seconds=0, runs_in="worker")
    with TestClient(create_app(settings, engine=pg.engine)) as client:
        yield client, make_key("marketer")


@pytest.mark.slow
def test_the_api_with_postgres_only_enqueues(worker_client) -> None:  # type: ignore[no-untyped-def]
    client, marketer = worker_client
    run = client.post("/v1/tailoring/runs", json={}, headers=marketer).json()
    time.sleep(1.0)
    assert client.get(f"/v1/tailoring/runs/{run['id']}", headers=marketer).json()["status"] == "queued"
    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        jobs = connection.execute(sa.text("SELECT args->>'run_id', status FROM procrastinate_jobs")).all()
    assert jobs == [(str(run["id"]), "todo")]
    assert client.post("/v1/tailoring/runs", json={}, headers=marketer).status_code == 409


@pytest.mark.slow
def test_two_workers_execute_every_run_once(pg, make_key) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=pg.url, environment="test", key_cache_seconds=0, runs_in="worker")
    with TestClient(create_app(settings, engine=pg.engine)) as client:
        keys = [make_key("marketer", tenant=f"t{n}") for n in range(6)]
        ids = [client.post("/v1/tailoring/runs", json={}, headers=key).json()["id"] for key in keys]
    workers = [start_worker(pg.url, 0.3), start_worker(pg.url, 0.3)]
    try:
        assert wait_for(lambda: all(r.status == "succeeded" for r in runs(pg.engine)), 30)
    finally:
        for worker in workers:
            stop(worker)
    done = runs(pg.engine)
    assert [r.id for r in done] == ids
    pids = {r.summary["pid"] for r in done if r.summary}
    assert len(pids) == 2  # both workers took runs, and each run ended once with one worker's summary


@pytest.mark.slow
def test_a_run_whose_worker_is_killed_is_retried_within_the_lease(pg, make_key) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=pg.url, environment="test", key_cache_seconds=0, runs_in="worker")
    with TestClient(create_app(settings, engine=pg.engine)) as client:
        run_id = client.post("/v1/tailoring/runs", json={}, headers=make_key("marketer")).json()["id"]
    doomed = start_worker(pg.url, 60)
    try:
        assert wait_for(lambda: runs(pg.engine)[0].status == "running", 15)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        killed_at = time.monotonic()
        rescuer = start_worker(pg.url, 0.2)
        try:
            assert wait_for(lambda: runs(pg.engine)[0].status == "succeeded", 20)
            # lease 2 s + a heartbeat, plus the rescuer's start-up (imports, about 3 s)
            assert time.monotonic() - killed_at < 12
        finally:
            stop(rescuer)
    finally:
        stop(doomed)
    assert runs(pg.engine)[0].id == run_id


@pytest.mark.slow
def test_a_run_killed_on_its_last_try_is_failed(pg, make_key) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=pg.url, environment="test", key_cache_seconds=0, runs_in="worker")
    with TestClient(create_app(settings, engine=pg.engine)) as client:
        client.post("/v1/tailoring/runs", json={}, headers=make_key("marketer"))
    doomed = start_worker(pg.url, 60, attempts=1)
    try:
        assert wait_for(lambda: runs(pg.engine)[0].status == "running", 15)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
        rescuer = start_worker(pg.url, 0.2, attempts=1)
        try:
            assert wait_for(lambda: runs(pg.engine)[0].status == "failed", 20)
        finally:
            stop(rescuer)
    finally:
        stop(doomed)
    assert "no heartbeat" in (runs(pg.engine)[0].error or "")


@pytest.mark.slow
def test_a_due_schedule_is_fired_by_a_worker(pg, make_key) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=pg.url, environment="test", key_cache_seconds=0, runs_in="worker")
    with TestClient(create_app(settings, engine=pg.engine)) as client:
        marketer = make_key("marketer")
        put = client.put("/v1/schedules/scoring", json={"every_seconds": 3600}, headers=marketer)
        assert put.status_code == 200
    with session_scope(pg.engine) as session:
        session.execute(sa.update(Schedule).values(next_run_at=utcnow() - timedelta(seconds=1)))
    worker = start_worker(pg.url, 0.1)
    try:
        assert wait_for(lambda: [r.status for r in runs(pg.engine)] == ["succeeded"], 20)
    finally:
        stop(worker)
    assert runs(pg.engine)[0].requested_by == "schedule"


def test_schedules_fire_once_when_due_and_skip_while_a_run_is_active(client, make_key, db, settings) -> None:  # type: ignore[no-untyped-def]
    marketer = make_key("marketer")
    client.app.state.job_runner.shutdown()
    assert (
        client.put("/v1/schedules/scoring", json={"cron": "0 2 * * *"}, headers=marketer).status_code == 200
    )
    assert (
        client.put("/v1/schedules/nothing", json={"every_seconds": 60}, headers=marketer).status_code == 404
    )
    assert (
        client.put("/v1/schedules/training", json={"every_seconds": 5}, headers=marketer).status_code == 422
    )
    listed = client.get("/v1/schedules", headers=marketer).json()
    assert [s["kind"] for s in listed] == ["scoring"]
    assert listed[0]["next_run_at"].startswith(str((utcnow() + timedelta(days=1)).date())) or listed[0][
        "next_run_at"
    ].startswith(str(utcnow().date()))
    audit = client.get("/v1/audit", headers=make_key("admin")).json()["items"]
    assert any(a["action"] == "schedule.put" for a in audit)
    later = utcnow() + timedelta(days=2)
    assert fire_due(db.engine, settings, utcnow()) == []
    fired = fire_due(db.engine, settings, later)
    assert [kind for _, kind in fired] == [SCORING]
    assert fire_due(db.engine, settings, later) == []  # moved on to its next time
    with session_scope(db.engine) as session:
        session.execute(sa.update(Schedule).values(next_run_at=later))
        tenant = tenants.get_tenant_by_name(session, "acme")
        assert tenant is not None
    assert fire_due(db.engine, settings, later) == []  # the first run is still queued: skipped
    assert len(runs(db.engine)) == 1
