"""Touchpoint policies over HTTP: create, replace, list, delete, audit, validation, roles and tenants."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def test_put_creates_then_replaces_lists_and_deletes(client: TestClient, shop, support_policy) -> None:
    marketer = shop["marketer"]
    created = client.put("/v1/touchpoints/support", json=support_policy, headers=marketer)
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "support" and body["mode"] == "auto" and body["treatment_pays"] is None
    assert body["rules"][0] == {"top_percent": 5, "priority": 1, "routing": "senior", "recognition": True}
    assert body["rules"][1]["recognition"] is False and body["exit_ramp"] is None
    checkout = {
        "journey_phase": "purchase",
        "mode": "never",
        "exit_ramp": {"channel": "chat", "label": "Chat"},
    }
    assert client.put("/v1/touchpoints/checkout", json=checkout, headers=marketer).status_code == 201
    replaced = client.put(
        "/v1/touchpoints/support", json={**support_policy, "mode": "always"}, headers=marketer
    )
    assert replaced.status_code == 200 and replaced.json()["mode"] == "always"
    listed = client.get("/v1/touchpoints", headers=marketer).json()
    assert [t["name"] for t in listed] == ["checkout", "support"]
    assert listed[0]["exit_ramp"] == {"channel": "chat", "label": "Chat", "contact": None}
    assert client.get("/v1/touchpoints/checkout", headers=shop["admin"]).json()["mode"] == "never"
    assert client.delete("/v1/touchpoints/checkout", headers=marketer).status_code == 204
    gone = client.get("/v1/touchpoints/checkout", headers=marketer)
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
    assert client.delete("/v1/touchpoints/checkout", headers=marketer).status_code == 404


def test_every_policy_change_is_audited_with_before_and_after(
    client: TestClient, shop, support_policy
) -> None:
    marketer = shop["marketer"]
    client.put("/v1/touchpoints/support", json=support_policy, headers=marketer)
    client.put("/v1/touchpoints/support", json={**support_policy, "mode": "never"}, headers=marketer)
    client.delete("/v1/touchpoints/support", headers=marketer)
    client.put("/v1/treatment/settings", json={"value_trait": "ltv"}, headers=marketer)
    audit = client.get("/v1/audit", headers=marketer).json()["items"]
    settings, deleted, updated, created = audit[:4]
    assert (created["action"], created["target"], created["before"]) == (
        "touchpoint.created",
        "support",
        None,
    )
    assert created["after"]["rules"][0] == support_policy["rules"][0] and created["actor"].endswith(
        ":marketer"
    )
    assert created["after"]["rules"][1] == {**support_policy["rules"][1], "recognition": False}
    assert updated["action"] == "touchpoint.updated"
    assert (updated["before"]["mode"], updated["after"]["mode"]) == ("auto", "never")
    assert deleted["action"] == "touchpoint.deleted" and deleted["before"]["mode"] == "never"
    assert deleted["after"] is None
    assert settings["action"] == "treatment.settings.updated" and settings["before"] is None
    assert settings["after"]["value_trait"] == "ltv"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"rules": [{"top_percent": 20, "priority": 2}, {"top_percent": 5, "priority": 1}]},
            "body.rules[1].top_percent",
        ),
        (
            {"rules": [{"top_percent": 5, "priority": 2}, {"top_percent": 20, "priority": 1}]},
            "body.rules[1].priority",
        ),
        ({"rules": [{"top_percent": 0, "priority": 1}]}, "body.rules[0].top_percent"),
        ({"rules": [{"top_percent": 101, "priority": 1}]}, "body.rules[0].top_percent"),
        ({"rules": [{"top_percent": 5, "priority": 0}]}, "body.rules[0].priority"),
        ({"rules": [{"top_percent": 5, "priority": 1, "colour": "red"}]}, "body.rules[0].colour"),
        ({"attributes": ["support_channel", "nope"]}, "body.attributes[1]"),
        ({"attributes": ["packaging", "packaging"]}, "body.attributes"),
        ({"mode": "sometimes"}, "body.mode"),
        ({"journey_phase": "after sales"}, "body.journey_phase"),
        ({"exit_ramp": {"channel": "phone"}}, "body.exit_ramp.label"),
    ],
)
def test_bad_policies_are_problems_naming_the_field(
    client: TestClient, shop, support_policy, change: dict[str, Any], field: str
) -> None:
    response = client.put(
        "/v1/touchpoints/support", json={**support_policy, **change}, headers=shop["marketer"]
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    assert client.get("/v1/touchpoints/support", headers=shop["marketer"]).status_code == 404


def test_a_missing_phase_and_a_bad_name_are_named(client: TestClient, shop, support_policy) -> None:
    del support_policy["journey_phase"]
    missing = client.put("/v1/touchpoints/support", json=support_policy, headers=shop["marketer"])
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.journey_phase"
    bad_name = client.get("/v1/touchpoints/not%20a%20name", headers=shop["marketer"])
    assert bad_name.status_code == 422 and bad_name.json()["errors"][0]["field"] == "path.name"


def test_only_marketers_change_policies_and_tenants_are_apart(
    client: TestClient, shop, support_policy, make_key
) -> None:
    for role in ("storefront", "crm"):
        assert (
            client.put("/v1/touchpoints/support", json=support_policy, headers=shop[role]).status_code == 403
        )
        assert client.get("/v1/touchpoints", headers=shop[role]).status_code == 403
    assert client.put("/v1/treatment/settings", json={}, headers=shop["crm"]).status_code == 403
    client.put("/v1/touchpoints/support", json=support_policy, headers=shop["marketer"])
    other = make_key("marketer", tenant="other")
    assert client.get("/v1/touchpoints", headers=other).json() == []
    assert client.get("/v1/touchpoints/support", headers=other).status_code == 404
    assert client.delete("/v1/touchpoints/support", headers=other).status_code == 404
    unknown_there = client.put("/v1/touchpoints/support", json=support_policy, headers=other)
    assert (
        unknown_there.status_code == 422
        and unknown_there.json()["errors"][0]["field"] == "body.attributes[0]"
    )
    assert client.get("/v1/touchpoints/support", headers=shop["marketer"]).status_code == 200


def test_treatment_settings_have_defaults_and_are_validated(client: TestClient, shop) -> None:
    marketer = shop["marketer"]
    defaults = client.get("/v1/treatment/settings", headers=marketer).json()
    assert defaults["value_trait"] == "lifetime_value" and defaults["purchase_types"] == ["purchase"]
    assert defaults["exit_ramp"] == {"channel": "phone", "label": "Talk to a person", "contact": None}
    assert defaults["default_engagement_mode"] == "self-service" and defaults["updated_at"] is None
    for body, field in (
        ({"recency_half_life_days": 0}, "body.recency_half_life_days"),
        ({"purchase_types": []}, "body.purchase_types"),
        ({"default_engagement_mode": "robot"}, "body.default_engagement_mode"),
        ({"exit_ramp": {"channel": "", "label": "x"}}, "body.exit_ramp.channel"),
    ):
        response = client.put("/v1/treatment/settings", json=body, headers=marketer)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, body
    ramp = {"channel": "chat", "label": "Chat with us", "contact": "https://example.com/chat"}
    saved = client.put(
        "/v1/treatment/settings", json={"value_trait": None, "exit_ramp": ramp}, headers=marketer
    )
    assert (
        saved.status_code == 200 and saved.json()["value_trait"] is None and saved.json()["exit_ramp"] == ramp
    )
