"""The travel tenant's relationship decisions: top-down for all at booking, each their own during the trip."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.relationships.conftest import CUSTOMERS, decline, post_events, trip_type


def test_the_scorer_judges_each_phase_relationship_at_one_slot(client: TestClient, travel) -> None:
    decisions = {
        d["attribute"]: d
        for d in client.get("/v1/tailoring/attributes", headers=travel["marketer"]).json()
        if d["attribute"].startswith("relationship:")
    }
    assert set(decisions) == {"relationship:booking", "relationship:trip", "relationship:return"}
    assert all(d["k"] == 1 for d in decisions.values())
    assert decisions["relationship:booking"]["decision"] == "default"
    assert decisions["relationship:booking"]["level"] == "mass"
    assert decisions["relationship:trip"]["decision"] == "tailor"


def test_top_down_for_everyone_at_booking_and_their_own_during_the_trip(relationship) -> None:
    for c in range(0, CUSTOMERS, 7):
        booking = relationship(f"c-{c}", "booking-page")
        assert (booking["type"], booking["tailored"], booking["source"]) == ("top-down", False, "default")
        trip = relationship(f"c-{c}", "trip-app")
        assert (trip["type"], trip["tailored"], trip["source"]) == (trip_type(c), True, "behaviour")
    assert "one type serves everyone here (mass" in booking["reason"] and booking["scorer"] == "mass"
    assert "own choices point to" in trip["reason"] and trip["scorer"] == "targeted"


def test_a_customer_nothing_is_known_of_gets_each_phase_default(
    client: TestClient, travel, relationship
) -> None:
    client.put("/v1/customers/new", json={"traits": {}}, headers=travel["crm"])
    trip = relationship("new", "trip-app")
    assert (trip["type"], trip["source"]) == ("top-down", "default")
    assert "nothing is known yet of this customer's choices" in trip["reason"]


def test_a_decline_is_respected_through_the_cool_off(client: TestClient, travel, relationship) -> None:
    assert relationship("c-2", "trip-app")["type"] == "co-created"
    assert relationship("c-5", "trip-app")["type"] == "co-created"
    post_events(
        client, travel["storefront"], [decline(2, "trip", days_ago=10), decline(5, "trip", days_ago=40)]
    )
    within = relationship("c-2", "trip-app")
    assert (within["type"], within["source"]) == ("top-down", "default")  # c-2 never chose anything else
    assert "co-created was declined on" in within["reason"] and "cool-off 30 days" in within["reason"]
    assert relationship("c-5", "trip-app")["type"] == "co-created"
    assert relationship("c-2", "booking-page")["type"] == "top-down"
    shorter = {**client.get("/v1/relationships/settings", headers=travel["marketer"]).json()}
    shorter.pop("updated_at")
    shorter["decline_cooloff_days"] = 7
    assert (
        client.put("/v1/relationships/settings", json=shorter, headers=travel["marketer"]).status_code == 200
    )
    assert relationship("c-2", "trip-app")["type"] == "co-created"


def test_a_statement_after_a_decline_is_honoured_and_a_decline_after_it_wins(
    client: TestClient, travel, relationship
) -> None:
    post_events(client, travel["storefront"], [decline(0, "trip", days_ago=1)])
    wants = {"preferences": [{"journey_phase": "trip", "type": "co-created"}]}
    assert client.put("/v1/customers/c-0/relationships", json=wants, headers=travel["crm"]).status_code == 200
    stated = relationship("c-0", "trip-app")
    assert (stated["type"], stated["source"], stated["tailored"]) == ("co-created", "stated", True)
    post_events(client, travel["storefront"], [decline(0, "trip", days_ago=0)])
    after = relationship("c-0", "trip-app")
    assert after["type"] == "improvisational" and "stated co-created was declined" in after["reason"]


def test_co_creation_is_never_imposed_by_a_default(client: TestClient, travel, relationship) -> None:
    settings = {
        "phases": [
            {"journey_phase": "trip", "default": "co-created"},
            {"journey_phase": "planning", "default": "bottom-up"},
        ],
        "decline_cooloff_days": 30,
    }
    assert (
        client.put("/v1/relationships/settings", json=settings, headers=travel["marketer"]).status_code == 200
    )
    client.put("/v1/touchpoints/planner", json={"journey_phase": "planning"}, headers=travel["marketer"])
    client.put("/v1/customers/new", json={"traits": {}}, headers=travel["crm"])
    for customer in ("new", "c-1"):
        planning = relationship(customer, "planner")
        assert (planning["type"], planning["source"]) == ("top-down", "default")
        assert (
            "bottom-up is offered only to customers who stated it or took it up before" in planning["reason"]
        )
    assert relationship("new", "trip-app")["type"] == "top-down"
    wants = {"preferences": [{"journey_phase": "planning", "type": "bottom-up"}]}
    client.put("/v1/customers/new/relationships", json=wants, headers=travel["storefront"])
    assert relationship("new", "planner")["type"] == "bottom-up"


def test_no_behaviour_is_used_without_profiling_consent(client: TestClient, travel, relationship) -> None:
    no_profiling = {"traits": {}, "consent": {"personalization": True, "profiling": False}}
    for customer in ("c-0", "c-2"):
        assert (
            client.put(f"/v1/customers/{customer}", json=no_profiling, headers=travel["crm"]).status_code
            == 200
        )
        trip = relationship(customer, "trip-app")
        assert (trip["type"], trip["source"]) == ("top-down", "default")
        assert "behaviour is not used without profiling consent" in trip["reason"]
    read = client.get("/v1/customers/c-2/relationships", headers=travel["crm"]).json()
    assert all(p["observed"] is None for p in read["phases"])
    wants = {"preferences": [{"journey_phase": "trip", "type": "improvisational"}]}
    client.put("/v1/customers/c-0/relationships", json=wants, headers=travel["crm"])
    assert relationship("c-0", "trip-app")["type"] == "improvisational"
