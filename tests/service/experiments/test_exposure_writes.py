"""First exposures written by several server processes at once: no deadlock, nothing lost."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.exc import SQLAlchemyError

from service.db import session_scope
from service.experiments.models import Exposure
from service.experiments.repository import write_first_exposures
from service.holdouts import FirstExposure
from tests.service.experiments.conftest import Headers, post_events
from tests.service.experiments.test_experiments import experiment


def test_workers_flushing_the_same_new_exposures_in_any_order_do_not_deadlock(
    client: TestClient, admin: Headers, db: Any
) -> None:
    if db.backend != "postgres":
        pytest.skip("SQLite writes one transaction at a time")
    created = client.post("/v1/experiments", json=experiment({"kind": "global"}), headers=admin).json()
    customers = [f"c-{i}" for i in range(300)]
    seen = "2026-01-01T00:00:00Z"
    events = [
        {"event_id": f"e-{c}", "customer_id": c, "type": "view", "occurred_at": seen} for c in customers
    ]
    post_events(client, admin, events)
    with session_scope(db.engine) as session:
        tenant_id = session.execute(sa.text("SELECT tenant_id FROM experiments")).scalar_one()
    now = datetime.now(UTC)
    exposures = [FirstExposure(created["id"], tenant_id, c, "treatment", now) for c in customers]
    failures: list[SQLAlchemyError] = []

    def flush(batch: list[FirstExposure], start: threading.Barrier) -> None:
        start.wait()
        try:
            with session_scope(db.engine) as session:
                write_first_exposures(session, batch)
        except SQLAlchemyError as error:
            failures.append(error)

    for _ in range(5):  # each round writes new rows: two workers' buffers, in opposite orders
        with session_scope(db.engine) as session:
            session.execute(sa.delete(Exposure))
        start = threading.Barrier(2)
        workers = [
            threading.Thread(target=flush, args=(batch, start)) for batch in (exposures, exposures[::-1])
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert not failures, failures
        with session_scope(db.engine) as session:
            assert session.execute(sa.select(sa.func.count()).select_from(Exposure)).scalar_one() == 300
