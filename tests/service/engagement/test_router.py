"""Engagement preferences over HTTP: stated per phase, observed after a scoring run, roles and tenants."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from service.workloads.inline import score_now

Headers = dict[str, str]


@pytest.fixture
def keys(client: TestClient, make_key) -> dict[str, Headers]:
    """Keys of acme, which has customers c-1 and c-2."""
    made = {role: make_key(role) for role in ("crm", "storefront", "marketer")}
    for customer in ("c-1", "c-2"):
        assert (
            client.put(f"/v1/customers/{customer}", json={"traits": {}}, headers=made["crm"]).status_code
            == 201
        )
    return made


def behave(client: TestClient, headers: Headers, customer: str, phase: str, *types: str) -> None:
    """Send a customer's self-service signals in a phase."""
    start = datetime(2026, 4, 1, tzinfo=UTC)
    events = [
        {
            "event_id": f"{customer}-{phase}-{n}",
            "customer_id": customer,
            "type": kind,
            "attribute": "journey_phase",
            "value": phase,
            "occurred_at": (start + timedelta(minutes=n)).isoformat(),
        }
        for n, kind in enumerate(types)
    ]
    assert client.post("/v1/events", json={"events": events}, headers=headers).json()["accepted"] == len(
        events
    )


def score(db) -> None:
    """Run a scoring run of acme to the end (no attributes: it only counts customers and behaviour)."""
    score_now(db.engine, "acme", None, lambda _label: nullcontext(lambda _f, _m: None))


def test_put_replaces_stated_modes_and_get_explains_them(client: TestClient, keys) -> None:
    body = {
        "preferences": [
            {"journey_phase": "support", "mode": "full-service"},
            {"journey_phase": "discovery", "mode": "self-service"},
        ]
    }
    saved = client.put("/v1/customers/c-1/engagement", json=body, headers=keys["crm"])
    assert saved.status_code == 200
    phases = {p["journey_phase"]: p for p in saved.json()["phases"]}
    assert list(phases) == ["discovery", "support"] and saved.json()["default_mode"] == "self-service"
    assert phases["support"]["stated"] == phases["support"]["mode"] == "full-service"
    assert phases["support"]["observed"] is None and "stated full-service" in phases["support"]["reason"]
    replaced = {"preferences": [{"journey_phase": "purchase", "mode": "assisted"}]}
    client.put("/v1/customers/c-1/engagement", json=replaced, headers=keys["crm"])
    read = client.get("/v1/customers/c-1/engagement", headers=keys["storefront"]).json()
    assert [(p["journey_phase"], p["mode"]) for p in read["phases"]] == [("purchase", "assisted")]
    assert client.get("/v1/customers/c-2/engagement", headers=keys["crm"]).json()["phases"] == []


def test_behaviour_is_observed_by_the_scoring_run(client: TestClient, keys, db) -> None:
    behave(client, keys["storefront"], "c-1", "support", "self_service_abandoned", "called_support")
    behave(client, keys["storefront"], "c-2", "purchase", *["self_service_completed"] * 25, "called_support")
    assert client.get("/v1/customers/c-1/engagement", headers=keys["crm"]).json()["phases"] == []
    score(db)
    support = client.get("/v1/customers/c-1/engagement", headers=keys["crm"]).json()["phases"][0]
    assert (support["stated"], support["observed"], support["mode"]) == (None, "full-service", "full-service")
    assert support["signals"] == {
        "self_service_completed": 0,
        "self_service_abandoned": 1,
        "called_support": 1,
    }
    purchase = client.get("/v1/customers/c-2/engagement", headers=keys["crm"]).json()["phases"][0]
    assert purchase["signals"]["self_service_completed"] == 19 and purchase["signals"]["called_support"] == 1
    assert purchase["observed"] == "self-service"


def test_behaviour_is_ignored_without_profiling_consent(client: TestClient, keys, db) -> None:
    behave(client, keys["storefront"], "c-1", "support", "called_support", "called_support")
    score(db)
    no_profiling = {"traits": {}, "consent": {"personalization": True, "profiling": False}}
    client.put("/v1/customers/c-1", json=no_profiling, headers=keys["crm"])
    assert client.get("/v1/customers/c-1/engagement", headers=keys["crm"]).json()["phases"] == []
    score(db)
    client.put(
        "/v1/customers/c-1",
        json={"traits": {}, "consent": {"personalization": True, "profiling": True}},
        headers=keys["crm"],
    )
    assert client.get("/v1/customers/c-1/engagement", headers=keys["crm"]).json()["phases"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preferences": [{"journey_phase": "support", "mode": "robot"}]}, "body.preferences[0].mode"),
        (
            {"preferences": [{"journey_phase": "after sales", "mode": "assisted"}]},
            "body.preferences[0].journey_phase",
        ),
        ({"preferences": [{"mode": "assisted"}]}, "body.preferences[0].journey_phase"),
        (
            {"preferences": [{"journey_phase": "support", "mode": "assisted"}] * 2},
            "body.preferences[1].journey_phase",
        ),
        ({"preferences": "support"}, "body.preferences"),
        ({}, "body.preferences"),
    ],
)
def test_bad_bodies_are_problems_naming_the_field(client: TestClient, keys, body: dict, field: str) -> None:
    response = client.put("/v1/customers/c-1/engagement", json=body, headers=keys["crm"])
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


def test_roles_and_tenants(client: TestClient, keys, make_key) -> None:
    body = {"preferences": [{"journey_phase": "support", "mode": "assisted"}]}
    assert (
        client.put("/v1/customers/c-1/engagement", json=body, headers=keys["storefront"]).status_code == 403
    )
    assert client.get("/v1/customers/c-1/engagement", headers=keys["marketer"]).status_code == 403
    assert client.put("/v1/customers/nobody/engagement", json=body, headers=keys["crm"]).status_code == 404
    client.put("/v1/customers/c-1/engagement", json=body, headers=keys["crm"])
    other = make_key("crm", tenant="other")
    assert client.get("/v1/customers/c-1/engagement", headers=other).status_code == 404
    assert client.put("/v1/customers/c-1/engagement", json=body, headers=other).status_code == 404
    assert (
        client.get("/v1/customers/c-1/engagement", headers=keys["crm"]).json()["phases"][0]["mode"]
        == "assisted"
    )
