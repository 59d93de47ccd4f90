"""A shop whose customers each prefer their own support channel, all take the same packaging, and spend
more the higher their number: c-39 spends most, c-0 least."""

from __future__ import annotations

import copy
from collections.abc import Callable
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
from tests.notifications import caught_up

CUSTOMERS = 40
CHANNELS = ["chat", "phone", "email", "video", "callback", "store"]
START = datetime(2026, 5, 1, tzinfo=UTC)
SUPPORT = {
    "journey_phase": "support",
    "attributes": ["support_channel", "packaging"],
    "mode": "auto",
    "rules": [
        {"top_percent": 5, "priority": 1, "routing": "senior", "recognition": True},
        {"top_percent": 20, "priority": 2, "routing": "standard"},
    ],
}
Headers = dict[str, str]


def define_attributes(db: Any, tenant: str, names: list[str]) -> None:
    """Define categorical attributes straight in the database."""
    with session_scope(db.engine) as session:
        found = tenants.get_tenant_by_name(session, tenant)
        assert found is not None and found.id is not None
        session.add_all(Attribute(tenant_id=found.id, name=n, kind="categorical") for n in names)


def event(event_id: str, customer: str, when: datetime, **fields: Any) -> dict[str, Any]:
    """An event of a customer at a time."""
    return {"event_id": event_id, "customer_id": f"c-{customer}", "occurred_at": when.isoformat(), **fields}


def shop_events(seed: int = 5) -> list[dict[str, Any]]:
    """Six channel and packaging choices per customer, and one purchase worth 10 * (number + 1)."""
    rng = np.random.default_rng(seed)
    events = []
    for c in range(CUSTOMERS):
        for k in range(6):
            when = START + timedelta(days=k, hours=c)
            channel = CHANNELS[c % 6] if rng.random() < 0.9 else CHANNELS[int(rng.integers(6))]
            packaging = "box" if rng.random() < 0.8 else "bag"
            events.append(
                event(f"ch-{c}-{k}", str(c), when, type="choice", attribute="support_channel", value=channel)
            )
            events.append(
                event(f"pk-{c}-{k}", str(c), when, type="choice", attribute="packaging", value=packaging)
            )
        events.append(event(f"buy-{c}", str(c), START, type="purchase", item_id="sku-1", weight=10 * (c + 1)))
    return events


def signal_events(customer: int, phase: str, *types: str) -> list[dict[str, Any]]:
    """Self-service signals of a customer in a journey phase, one hour apart."""
    return [
        event(
            f"sig-{customer}-{phase}-{n}",
            str(customer),
            START + timedelta(hours=n),
            type=t,
            attribute="journey_phase",
            value=phase,
        )
        for n, t in enumerate(types)
    ]


def post_events(client: TestClient, headers: Headers, events: list[dict[str, Any]]) -> None:
    """Send events in batches of the test limit."""
    for start in range(0, len(events), 100):
        response = client.post("/v1/events", json={"events": events[start : start + 100]}, headers=headers)
        assert response.status_code == 200 and response.json()["rejected"] == 0, response.text


def score(db: Any, tenant: str = "acme") -> None:
    """Run a scoring run to the end, as the CLI does."""
    score_now(db.engine, tenant, None, lambda _label: nullcontext(lambda _f, _m: None))


@pytest.fixture
def shop(client: TestClient, make_key, db) -> dict[str, Headers]:
    """Keys of the seeded shop `acme` (not scored yet)."""
    keys = {role: make_key(role) for role in ("marketer", "storefront", "crm", "admin")}
    define_attributes(db, "acme", ["support_channel", "packaging"])
    post_events(client, keys["storefront"], shop_events())
    return keys


@pytest.fixture
def scored(client: TestClient, shop: dict[str, Headers], db) -> dict[str, Headers]:
    """The shop after one scoring run, with the support touchpoint defined."""
    score(db)
    response = client.put("/v1/touchpoints/support", json=copy.deepcopy(SUPPORT), headers=shop["marketer"])
    assert response.status_code == 201, response.text
    return shop


@pytest.fixture
def support_policy() -> dict[str, Any]:
    """The body of the support touchpoint (a fresh copy)."""
    return copy.deepcopy(SUPPORT)


@pytest.fixture
def signals(client: TestClient, shop: dict[str, Headers]) -> Callable[..., None]:
    """Send self-service signals of a customer in a phase: signals(5, "support", "called_support", ...)."""
    return lambda customer, phase, *types: post_events(
        client, shop["storefront"], signal_events(customer, phase, *types)
    )


@pytest.fixture
def rescore(db) -> Callable[[], None]:
    """Run another scoring run of acme."""
    return lambda: score(db)


@pytest.fixture
def treatment(client: TestClient, shop: dict[str, Headers], db) -> Callable[..., dict[str, Any]]:
    """A customer's treatment at a touchpoint (support by default), asserting success, once every change
    made so far has reached the app's kept answers (PostgreSQL)."""

    def get(customer: str, touchpoint: str = "support") -> dict[str, Any]:
        caught_up(client, db)
        response = client.get(
            f"/v1/customers/{customer}/treatment",
            params={"touchpoint": touchpoint},
            headers=shop["storefront"],
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    return get
