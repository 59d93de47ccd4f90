"""Slots per attribute through the API: a loyal few-valued attribute is tailored, a petrol-like one is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from tests.service.tailoring.conftest import post_events, wait_for_run

BRANDS = ["alpine", "brookside", "cloverfield", "dairydell"]
SHARES = [0.55, 0.25, 0.12, 0.08]


def supermarket(client: TestClient, keys: dict[str, dict[str, str]], loyal: bool, slots: int | None) -> None:
    """A yogurt brand of four values: households loyal to their own brand, or all drawing the same shares."""
    body: dict[str, Any] = {"kind": "categorical"} | ({} if slots is None else {"slots": slots})
    assert client.put("/v1/attributes/brand", json=body, headers=keys["marketer"]).status_code in (200, 201)
    items = [{"item_id": f"y-{b}-{n}", "attributes": {"brand": b}} for b in BRANDS for n in range(3)]
    assert client.post("/v1/sync/items", json=items, headers=keys["crm"]).status_code == 200
    rng = np.random.default_rng(5)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    events = []
    for c in range(120):
        own = int(rng.choice(4, p=SHARES))
        for k in range(8):
            brand = own if loyal and rng.random() < 0.92 else int(rng.choice(4, p=SHARES))
            item = f"y-{BRANDS[brand]}-{int(rng.integers(3))}"
            when = (start + timedelta(days=k, hours=c)).isoformat()
            events.append(
                {"event_id": f"e{c}-{k}", "customer_id": f"h{c}", "type": "purchase", "item_id": item}
            )
            events[-1]["occurred_at"] = when
    post_events(client, keys["storefront"], events)


def decision(client: TestClient, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Score the tenant and read the brand's decision."""
    started = client.post("/v1/tailoring/runs", json={}, headers=keys["marketer"]).json()
    run = wait_for_run(client, f"/v1/tailoring/runs/{started['id']}", keys["marketer"])
    assert run["status"] == "succeeded", run
    return dict(client.get("/v1/tailoring/attributes/brand", headers=keys["marketer"]).json())


def keys_of(make_key) -> dict[str, dict[str, str]]:
    """A key per role of one tenant."""
    return {role: make_key(role) for role in ("marketer", "storefront", "crm")}


def test_loyal_households_get_their_own_brand_at_one_slot_by_default(client: TestClient, make_key) -> None:
    keys = keys_of(make_key)
    supermarket(client, keys, loyal=True, slots=None)
    brand = decision(client, keys)
    assert brand["slots"] == 1 and brand["k"] == 1
    assert brand["decision"] == "tailor" and brand["level"] != "mass", brand["explanation"]
    assert "hit@1" in brand["explanation"]


def test_a_shelf_that_holds_every_choice_is_not_reported_as_a_finding(client: TestClient, make_key) -> None:
    keys = keys_of(make_key)
    supermarket(client, keys, loyal=True, slots=4)
    brand = decision(client, keys)
    assert brand["slots"] == 4 and brand["k"] < 4 and brand["k_reason"]
    assert "100% vs 100%" not in brand["explanation"] and "hit@4" not in brand["explanation"]


def test_households_alike_are_not_tailored_at_any_slot_count(client: TestClient, make_key) -> None:
    keys = keys_of(make_key)
    supermarket(client, keys, loyal=False, slots=None)
    for slots in (None, 1, 2, 3):
        body: dict[str, Any] = {"kind": "categorical"} | ({} if slots is None else {"slots": slots})
        client.put("/v1/attributes/brand", json=body, headers=keys["marketer"])
        assert decision(client, keys)["decision"] != "tailor"


def test_slots_are_validated_naming_the_field(client: TestClient, make_key) -> None:
    marketer = make_key("marketer")
    answer = client.put("/v1/attributes/brand", json={"kind": "categorical", "slots": 0}, headers=marketer)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "body.slots"
    shown = client.put("/v1/attributes/brand", json={"kind": "categorical", "slots": 2}, headers=marketer)
    assert shown.json()["slots"] == 2
