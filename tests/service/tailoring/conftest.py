"""A small bookstore-like tenant: genres concentrated per customer, formats alike for everyone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.catalog.models import Attribute, Item, ItemValue
from service.db import session_scope
from service.tenancy import repository as tenants

GENRES = [f"g{n}" for n in range(10)]
FORMATS = ["paperback", "hardcover", "ebook"]


def seed_catalog(db: Any, tenant: str) -> None:
    """Define genre and format and 60 books, written straight to the real database."""
    with session_scope(db.engine) as session:
        tenant_row = tenants.get_tenant_by_name(session, tenant)
        assert tenant_row is not None and tenant_row.id is not None
        tid = tenant_row.id
        for name in ("genre", "format"):
            session.add(Attribute(tenant_id=tid, name=name, kind="categorical"))
        for n in range(60):
            values = {"genre": GENRES[n % 10], "format": FORMATS[(n // 10) % 3]}
            session.add(Item(tenant_id=tid, item_id=f"b-{n}", attributes=values))
            session.flush()
            session.add_all(
                ItemValue(tenant_id=tid, item_id=f"b-{n}", attribute=a, value=v) for a, v in values.items()
            )


def bookstore_events(customers: int = 80, per_customer: int = 6, seed: int = 3) -> list[dict[str, Any]]:
    """Each customer buys mostly books of one favourite genre; format follows the book at random."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    events = []
    for c in range(customers):
        favourite = c % 10
        for k in range(per_customer):
            genre = favourite if rng.random() < 0.85 else int(rng.integers(10))
            book = genre + 10 * int(rng.integers(6))
            events.append(
                {
                    "event_id": f"e-{c}-{k}",
                    "customer_id": f"c-{c}",
                    "type": "purchase",
                    "item_id": f"b-{book}",
                    "occurred_at": (start + timedelta(days=k, hours=c)).isoformat(),
                }
            )
    return events


def post_events(client: TestClient, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    """Send events in batches the test limits allow."""
    for start in range(0, len(events), 100):
        response = client.post("/v1/events", json={"events": events[start : start + 100]}, headers=headers)
        assert response.status_code == 200 and response.json()["rejected"] == 0, response.text


def wait_for_run(
    client: TestClient, path: str, headers: dict[str, str], seconds: float = 60
) -> dict[str, Any]:
    """Poll a run until it has finished."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = client.get(path, headers=headers).json()
        if run["status"] in ("succeeded", "failed"):
            return dict(run)
        time.sleep(0.05)
    raise AssertionError(f"run {path} did not finish")


@pytest.fixture
def run_to_end(client: TestClient):
    """A function that polls a run resource until it finishes."""
    return lambda path, headers: wait_for_run(client, path, headers)


@pytest.fixture
def bookstore(client: TestClient, make_key, db) -> dict[str, dict[str, str]]:
    """Keys of a seeded bookstore tenant named acme."""
    keys = {role: make_key(role) for role in ("marketer", "storefront", "crm", "admin")}
    seed_catalog(db, "acme")
    post_events(client, keys["storefront"], bookstore_events())
    return keys


@pytest.fixture
def scored(client: TestClient, bookstore: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The bookstore after one successful scoring run."""
    started = client.post("/v1/tailoring/runs", json={}, headers=bookstore["marketer"])
    assert started.status_code == 202, started.text
    run = wait_for_run(client, f"/v1/tailoring/runs/{started.json()['id']}", bookstore["marketer"])
    assert run["status"] == "succeeded", run
    return bookstore
