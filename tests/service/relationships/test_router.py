"""Relationship settings and stated types over HTTP: audit, reads, roles, tenants, bad input, GDPR."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.relationships.models import RelationshipPreference
from tests.service.relationships.conftest import SETTINGS, decline, post_events

WANTS = {"preferences": [{"journey_phase": "trip", "type": "bottom-up"}]}


def test_settings_are_audited_and_define_the_scored_attributes(client: TestClient, travel) -> None:
    marketer = travel["marketer"]
    read = client.get("/v1/relationships/settings", headers=marketer).json()
    assert read["phases"] == SETTINGS["phases"] and read["decline_cooloff_days"] == 30
    log = client.get("/v1/audit", headers=marketer).json()["items"]
    entry = next(e for e in log if e["action"] == "relationships.settings.updated")
    assert entry["before"] is None
    assert entry["after"]["attributes_created"] == [
        "relationship:booking",
        "relationship:trip",
        "relationship:return",
    ]
    names = {a["name"] for a in client.get("/v1/attributes", headers=marketer).json()}
    assert {"relationship:booking", "relationship:trip", "relationship:return"} <= names


def test_get_shows_stated_observed_and_offered_per_phase(client: TestClient, travel) -> None:
    post_events(client, travel["storefront"], [decline(1, "trip", days_ago=3, kind="bottom_up_declined")])
    saved = client.put("/v1/customers/c-1/relationships", json=WANTS, headers=travel["storefront"])
    assert saved.status_code == 200
    phases = {p["journey_phase"]: p for p in saved.json()["phases"]}
    assert list(phases) == ["booking", "return", "trip"]
    trip = phases["trip"]
    assert (trip["stated"], trip["type"], trip["source"]) == ("bottom-up", "bottom-up", "stated")
    assert trip["observed"]["chosen"]["top-down"] > 0 and "bottom-up" in trip["observed"]["declined"]
    assert phases["booking"]["stated"] is None and phases["booking"]["type"] == "top-down"
    assert all(p["exit_ramp"]["type"] == "top-down" for p in phases.values())
    client.put("/v1/customers/c-1/relationships", json={"preferences": []}, headers=travel["crm"])
    read = client.get("/v1/customers/c-1/relationships", headers=travel["crm"]).json()
    assert all(p["stated"] is None for p in read["phases"])


def test_roles_and_tenant_isolation(client: TestClient, travel, make_key) -> None:
    assert client.put("/v1/relationships/settings", json=SETTINGS, headers=travel["crm"]).status_code == 403
    assert client.get("/v1/customers/c-1/relationships", headers=travel["marketer"]).status_code == 403
    assert (
        client.put("/v1/customers/nobody/relationships", json=WANTS, headers=travel["crm"]).status_code == 404
    )
    client.put("/v1/customers/c-1/relationships", json=WANTS, headers=travel["crm"])
    other = {role: make_key(role, tenant="other") for role in ("crm", "marketer")}
    assert client.get("/v1/customers/c-1/relationships", headers=other["crm"]).status_code == 404
    assert client.get("/v1/relationships/settings", headers=other["marketer"]).json()["phases"] == []
    client.put("/v1/customers/c-1", json={"traits": {}}, headers=other["crm"])
    theirs = client.get("/v1/customers/c-1/relationships", headers=other["crm"]).json()
    assert theirs["phases"] == []
    mine = client.get("/v1/customers/c-1/relationships", headers=travel["crm"]).json()["phases"]
    assert next(p for p in mine if p["journey_phase"] == "trip")["stated"] == "bottom-up"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phases": [{"journey_phase": "trip", "default": "sideways"}]}, "body.phases[0].default"),
        ({"phases": [{"journey_phase": "the trip", "default": "top-down"}]}, "body.phases[0].journey_phase"),
        ({"phases": [{"journey_phase": "x" * 88, "default": "top-down"}]}, "body.phases[0].journey_phase"),
        ({"phases": [{"journey_phase": "trip", "default": "top-down"}] * 2}, "body.phases[1].journey_phase"),
        ({"phases": [], "decline_cooloff_days": -1}, "body.decline_cooloff_days"),
        ({"phases": [], "colour": "red"}, "body.colour"),
        ({}, "body.phases"),
    ],
)
def test_bad_settings_are_problems_naming_the_field(
    client: TestClient, make_key, body: dict, field: str
) -> None:
    response = client.put("/v1/relationships/settings", json=body, headers=make_key("marketer"))
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preferences": [{"journey_phase": "trip", "type": "robot"}]}, "body.preferences[0].type"),
        ({"preferences": [{"type": "top-down"}]}, "body.preferences[0].journey_phase"),
        (
            {"preferences": [{"journey_phase": "trip", "type": "top-down"}] * 2},
            "body.preferences[1].journey_phase",
        ),
        ({"preferences": "trip"}, "body.preferences"),
    ],
)
def test_bad_preferences_are_problems_naming_the_field(
    client: TestClient, make_key, body: dict, field: str
) -> None:
    crm = make_key("crm")
    client.put("/v1/customers/c-1", json={"traits": {}}, headers=crm)
    response = client.put("/v1/customers/c-1/relationships", json=body, headers=crm)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_export_includes_and_erasure_removes_the_stated_types(client: TestClient, travel, db) -> None:
    crm = travel["crm"]
    client.put("/v1/customers/c-3/relationships", json=WANTS, headers=crm)
    post_events(client, travel["storefront"], [decline(3, "trip", days_ago=2)])
    exported = client.get("/v1/customers/c-3/export", headers=crm).json()
    assert [(p["journey_phase"], p["type"]) for p in exported["extra"]["relationship_preferences"]] == [
        ("trip", "bottom-up")
    ]
    kinds = {e["type"] for e in exported["events"]}
    assert {"relationship_chosen", "co_creation_declined"} <= kinds
    assert client.delete("/v1/customers/c-3", headers=crm).status_code == 200
    with db.engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(RelationshipPreference)).scalar_one()
        events = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE customer_id NOT IN (SELECT id FROM customers)")
        ).scalar_one()
    assert left == 0 and events == 0
    assert client.get("/v1/customers/c-3/relationships", headers=crm).status_code == 404
