"""A simulated storefront: customers with a spending habit, served under an experiment, then buying."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.catalog.models import Attribute
from service.db import session_scope
from service.tenancy import repository as tenants
from service.workloads.inline import score_now

GENRES = ["jazz", "rock", "folk", "pop", "blues", "soul"]
Headers = dict[str, str]


def define_attribute(db: Any, tenant: str, name: str) -> None:
    """Define a categorical attribute straight in the database."""
    with session_scope(db.engine) as session:
        found = tenants.get_tenant_by_name(session, tenant)
        assert found is not None and found.id is not None
        session.add(Attribute(tenant_id=found.id, name=name, kind="categorical"))


def post_events(client: TestClient, headers: Headers, events: list[dict[str, Any]]) -> None:
    """Send events in batches the test settings allow; every one must be accepted."""
    for start in range(0, len(events), 100):
        sent = client.post("/v1/events", json={"events": events[start : start + 100]}, headers=headers)
        assert sent.status_code == 200, sent.text
        assert sent.json()["rejected"] == 0, sent.json()


def genre_history(client: TestClient, db: Any, headers: Headers, tenant: str = "acme") -> None:
    """40 customers who each stick to their own genre, scored: tailoring the genre pays."""
    define_attribute(db, tenant, "genre")
    rng = np.random.default_rng(3)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    events = [
        {
            "event_id": f"g-{c}-{k}",
            "customer_id": f"h-{c}",
            "type": "choice",
            "attribute": "genre",
            "value": GENRES[c % 6] if rng.random() < 0.9 else GENRES[int(rng.integers(6))],
            "occurred_at": (start + timedelta(days=k, hours=c)).isoformat(),
        }
        for c in range(40)
        for k in range(6)
    ]
    post_events(client, headers, events)
    score_now(db.engine, tenant, None, lambda _label: nullcontext(lambda _f, _m: None))


def spending_habits(customers: int, seed: int) -> np.ndarray:
    """Each customer's usual spend per fortnight (skewed, like revenue)."""
    return np.random.default_rng(seed).gamma(4.0, 25.0, customers)


def before_period(client: TestClient, headers: Headers, habits: np.ndarray, prefix: str) -> None:
    """A purchase per customer a week ago, at their habit (the CUPED covariate)."""
    when = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    post_events(
        client,
        headers,
        [
            {
                "event_id": f"pre-{prefix}-{i}",
                "customer_id": f"{prefix}-{i}",
                "type": "purchase",
                "weight": round(float(h), 2),
                "occurred_at": when,
            }
            for i, h in enumerate(habits)
        ],
    )


def after_period(
    client: TestClient,
    headers: Headers,
    habits: np.ndarray,
    arms: list[str],
    prefix: str,
    effect: float,
    seed: int,
) -> None:
    """A purchase per customer now: their habit, times (1 + effect) when treated, with 5% noise."""
    rng = np.random.default_rng(seed)
    when = datetime.now(UTC).isoformat()
    events = []
    for i, (habit, arm) in enumerate(zip(habits, arms, strict=True)):
        factor = (1.0 + effect if arm == "treatment" else 1.0) * rng.normal(1.0, 0.05)
        events.append(
            {
                "event_id": f"post-{prefix}-{i}",
                "customer_id": f"{prefix}-{i}",
                "type": "purchase",
                "weight": round(float(habit * factor), 2),
                "occurred_at": when,
            }
        )
    post_events(client, headers, events)


def flush(client: TestClient) -> None:
    """Write the buffered first exposures now (the worker would within a second)."""
    client.app.state.experiments_worker.flush()  # type: ignore[attr-defined]


@pytest.fixture
def admin(make_key: Callable[..., Headers]) -> Iterator[Headers]:
    """An admin key of tenant acme."""
    yield make_key("admin")
