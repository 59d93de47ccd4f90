"""A travel tenant: everyone wants top-down at booking and at the return; during the trip a third each
want improvisation, top-down, or co-creation, and show it in what they choose."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.workloads.inline import score_now
from tests import snapshots

CUSTOMERS = 60
TYPES = ["top-down", "co-created", "improvisational", "bottom-up"]
TRIP_TYPES = ["improvisational", "top-down", "co-created"]
SETTINGS = {
    "phases": [
        {"journey_phase": "booking", "default": "top-down"},
        {"journey_phase": "trip", "default": "top-down"},
        {"journey_phase": "return", "default": "top-down"},
    ],
    "decline_cooloff_days": 30,
}
TOUCHPOINTS = {"booking-page": "booking", "trip-app": "trip", "return-desk": "return"}
Headers = dict[str, str]


def trip_type(customer: int) -> str:
    """The type a customer wants during the trip: improvisational, top-down or co-created by c mod 3."""
    return TRIP_TYPES[customer % 3]


def choice(customer: int, phase: str, n: int, kind: str, when: datetime) -> dict[str, Any]:
    """A choice of a relationship type in a phase."""
    return {
        "event_id": f"{phase}-{customer}-{n}",
        "customer_id": f"c-{customer}",
        "type": "relationship_chosen",
        "attribute": f"relationship:{phase}",
        "value": kind,
        "occurred_at": when.isoformat(),
    }


def travel_events(start: datetime, seed: int = 14) -> list[dict[str, Any]]:
    """Eight choices per customer and phase: 90% the customer's type, else any type."""
    rng = np.random.default_rng(seed)
    events = []
    for c in range(CUSTOMERS):
        wanted = {"booking": "top-down", "trip": trip_type(c), "return": "top-down"}
        for phase, kind in wanted.items():
            for n in range(8):
                picked = kind if rng.random() < 0.9 else TYPES[int(rng.integers(4))]
                events.append(choice(c, phase, n, picked, start + timedelta(days=n, hours=c)))
    return events


def post_events(client: TestClient, headers: Headers, events: list[dict[str, Any]]) -> None:
    """Send events in batches of the test limit."""
    for first in range(0, len(events), 100):
        response = client.post("/v1/events", json={"events": events[first : first + 100]}, headers=headers)
        assert response.status_code == 200 and response.json()["rejected"] == 0, response.text


def decline(customer: int, phase: str, days_ago: float, kind: str = "co_creation_declined") -> dict[str, Any]:
    """A declined offer in a phase, some days before now."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "event_id": f"decline-{customer}-{phase}-{days_ago}",
        "customer_id": f"c-{customer}",
        "type": kind,
        "attribute": "journey_phase",
        "value": phase,
        "occurred_at": when.isoformat(),
    }


def score(db: Any, tenant: str = "travel") -> None:
    """Run a scoring run to the end, as the CLI does."""
    score_now(db.engine, tenant, None, lambda _label: nullcontext(lambda _f, _m: None))


@pytest.fixture
def travel(client: TestClient, make_key, db, settings: Settings) -> dict[str, Headers]:
    """Keys of the scored travel tenant with its phases' settings and a touchpoint per phase (built once a
    process, restored for later tests)."""

    def build() -> dict[str, Headers]:
        keys = {role: make_key(role, tenant="travel") for role in ("marketer", "storefront", "crm")}
        response = client.put("/v1/relationships/settings", json=SETTINGS, headers=keys["marketer"])
        assert response.status_code == 200, response.text
        for name, phase in TOUCHPOINTS.items():
            body = {"journey_phase": phase}
            assert (
                client.put(f"/v1/touchpoints/{name}", json=body, headers=keys["marketer"]).status_code == 201
            )
        post_events(client, keys["storefront"], travel_events(datetime.now(UTC) - timedelta(days=200)))
        score(db)
        return keys

    return snapshots.built_once("travel", db, settings, build)


@pytest.fixture
def relationship(client: TestClient, travel: dict[str, Headers]) -> Callable[[str, str], dict[str, Any]]:
    """The relationship in a customer's treatment at a touchpoint, asserting success and the exit ramp."""

    def get(customer: str, touchpoint: str) -> dict[str, Any]:
        response = client.get(
            f"/v1/customers/{customer}/treatment",
            params={"touchpoint": touchpoint},
            headers=travel["storefront"],
        )
        assert response.status_code == 200, response.text
        offered: dict[str, Any] = response.json()["relationship"]
        assert offered["exit_ramp"] == {
            "type": "top-down",
            "engagement_mode": "full-service",
            "label": "Let us take it from here",
        }
        return offered

    return get
