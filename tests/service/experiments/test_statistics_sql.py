"""The per-arm sums of the fast results query equal those of the plain one-statement query they replace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from service.db import session_scope
from service.experiments.models import Experiment, Exposure
from service.experiments.statistics_repository import arm_statistics
from service.profiles.models import Customer, Event
from service.tenancy import service as tenancy

# The query before the covering index and the two halves: one outer join of every exposure with its events.
PLAIN = """
WITH per_customer AS (
    SELECT x.arm AS arm,
        COALESCE({agg}(CASE WHEN {after} THEN {value} END), 0) AS y,
        COALESCE({agg}(CASE WHEN {before} THEN {value} END), 0) AS x
    FROM experiment_exposures x
    LEFT JOIN events e ON e.tenant_id = :tenant_id AND e.type = :event_type AND e.customer_id = x.customer_id
        AND {within}
    WHERE x.experiment_id = :experiment_id AND x.tenant_id = :tenant_id
        AND NOT EXISTS (
            SELECT 1 FROM customers c WHERE c.id = x.customer_id AND NOT c.consent_personalization
        )
    GROUP BY x.tenant_id, x.experiment_id, x.customer_id
)
SELECT arm, COUNT(*), SUM(y), SUM(y * y), SUM(x), SUM(x * x), SUM(x * y) FROM per_customer GROUP BY arm
"""
WINDOWS = {
    "postgresql": {
        "after": "e.occurred_at >= x.exposed_at",
        "before": "e.occurred_at < x.exposed_at",
        "within": "e.occurred_at >= x.exposed_at - make_interval(days => :days)"
        " AND e.occurred_at < x.exposed_at + make_interval(days => :days)",
    },
    "sqlite": {
        "after": "julianday(e.occurred_at) >= julianday(x.exposed_at)",
        "before": "julianday(e.occurred_at) < julianday(x.exposed_at)",
        "within": "julianday(e.occurred_at) >= julianday(x.exposed_at) - :days"
        " AND julianday(e.occurred_at) < julianday(x.exposed_at) + :days",
    },
}
MEASURES = {"conversion": ("MAX", "1.0"), "count": ("SUM", "1.0"), "sum": ("SUM", "e.weight")}
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def synthetic_tenant(session: Session, name: str, seed: int) -> tuple[int, int]:
    """A tenant with 300 customers, 240 exposed (some without consent), events of two types around
    their exposure and beyond the windows, and customers without events; its id and the experiment's."""
    rng = np.random.default_rng(seed)
    tenant = tenancy.create_tenant(session, name)
    tenant_id = tenant.id or 0
    customers = [
        Customer(tenant_id=tenant_id, external_id=f"{name}-{i}", consent_personalization=rng.random() > 0.1)
        for i in range(300)
    ]
    session.add_all(customers)
    experiment = Experiment(
        tenant_id=tenant_id,
        name="sql",
        scope_kind="global",
        scope_key="global",
        holdout_share=0.3,
        assignment="external",
        salt=name,
        goal={"event_type": "purchase", "measure": "sum", "window_days": 14},
    )
    session.add(experiment)
    session.flush()
    events: list[Event] = []
    for i, customer in enumerate(customers):
        exposed_at = NOW - timedelta(hours=float(rng.uniform(0, 400)))
        if i < 240:
            arm = "holdout" if rng.random() < 0.3 else "treatment"
            session.add(
                Exposure(
                    experiment_id=experiment.id or 0,
                    customer_id=customer.id or 0,
                    tenant_id=tenant_id,
                    arm=arm,
                    exposed_at=exposed_at,
                )
            )
        for k in range(int(rng.poisson(4.0)) if i % 7 else 0):
            events.append(
                Event(
                    tenant_id=tenant_id,
                    customer_id=customer.id or 0,
                    event_id=f"{name}-{i}-{k}",
                    type="purchase" if rng.random() < 0.7 else "visit",
                    weight=round(float(rng.gamma(2.0, 20.0)), 2),
                    occurred_at=exposed_at + timedelta(hours=float(rng.uniform(-30 * 24, 30 * 24))),
                )
            )
    session.add_all(events)
    session.flush()
    return tenant_id, experiment.id or 0


def plain_statistics(session: Session, params: dict[str, Any], measure: str) -> dict[str, tuple[Any, ...]]:
    """The per-arm sums by the plain query."""
    agg, value = MEASURES[measure]
    dialect = "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"
    query = sa.text(PLAIN.format(agg=agg, value=value, **WINDOWS[dialect]))
    return {str(row[0]): tuple(row[1:]) for row in session.execute(query, params)}


@pytest.mark.parametrize("measure", ["conversion", "count", "sum"])
def test_fast_query_equals_the_plain_one(db, measure: str) -> None:
    with session_scope(db.engine) as session:
        tenant_id, experiment_id = synthetic_tenant(session, "left", 1)
        synthetic_tenant(session, "right", 2)
    for event_type, days in (("purchase", 14), ("purchase", 3), ("visit", 14), ("nothing", 14)):
        with session_scope(db.engine) as session:
            fast = arm_statistics(session, tenant_id, experiment_id, event_type, measure, days)
            params = {"experiment_id": experiment_id, "tenant_id": tenant_id, "event_type": event_type}
            plain = plain_statistics(session, {**params, "days": days}, measure)
        assert set(fast) == set(plain) == {"treatment", "holdout"}
        for arm, (n, *sums) in plain.items():
            assert fast[arm][0] == n
            assert fast[arm][1:] == pytest.approx([float(s or 0) for s in sums], rel=1e-12, abs=1e-9)
    assert sum(fast[arm][0] for arm in fast) < 240  # customers without consent are left out
