"""The audit log over HTTP: newest first, paged, filtered by action, one tenant's own, marketers only."""

from __future__ import annotations

from fastapi.testclient import TestClient


def change_thresholds(client: TestClient, marketer: dict[str, str], times: int) -> None:
    """Audited changes: the tenant's tailoring settings replaced `times` times."""
    for n in range(times):
        body = {"tau": 0.01 + n / 1000}
        assert client.put("/v1/tailoring/settings", json=body, headers=marketer).status_code == 200


def test_records_are_paged_newest_first(client: TestClient, make_key) -> None:
    marketer = make_key("marketer")
    change_thresholds(client, marketer, 5)
    first = client.get("/v1/audit", params={"limit": 2}, headers=marketer).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get("/v1/audit", params={"limit": 10, "cursor": first["next_cursor"]}, headers=marketer)
    items = first["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None and len(items) == 5
    taus = [item["after"]["tau"] for item in items]
    assert taus == sorted(taus, reverse=True)


def test_records_filter_by_action_and_stay_in_their_tenant(client: TestClient, make_key) -> None:
    marketer, other = make_key("marketer"), make_key("marketer", tenant="globex")
    change_thresholds(client, marketer, 2)
    client.put("/v1/touchpoints/checkout", json={"journey_phase": "purchase"}, headers=marketer)
    only = client.get("/v1/audit", params={"action": "touchpoint.created"}, headers=marketer).json()
    assert [item["action"] for item in only["items"]] == ["touchpoint.created"]
    assert client.get("/v1/audit", headers=other).json()["items"] == []


def test_only_marketers_read_the_log(client: TestClient, make_key) -> None:
    assert client.get("/v1/audit", headers=make_key("storefront")).status_code == 403
    assert (
        client.get("/v1/audit", params={"cursor": "not-ours"}, headers=make_key("marketer")).status_code
        == 400
    )
