"""The profile store over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

CUSTOMER = {
    "traits": {"segment": "gold", "lifetime_value": 1234.5},
    "consent": {"personalization": True, "profiling": True},
}


def event(n: int, customer: str = "c-1", **fields: Any) -> dict[str, Any]:
    """A valid purchase event."""
    return {
        "event_id": f"e-{n}",
        "customer_id": customer,
        "type": "purchase",
        "item_id": f"b-{n}",
        "attribute": None,
        "value": None,
        "weight": 1,
        "occurred_at": f"2026-01-01T10:{n % 60:02d}:00Z",
        **fields,
    }


def test_put_creates_then_replaces(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    created = client.put("/v1/customers/c-1", json=CUSTOMER, headers=crm)
    assert created.status_code == 201
    assert created.json()["traits"] == CUSTOMER["traits"]
    replaced = client.put("/v1/customers/c-1", json={"traits": {"segment": "silver"}}, headers=crm)
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["traits"] == {"segment": "silver"}
    assert body["consent"] == CUSTOMER["consent"]
    assert body["updated_at"] >= body["created_at"]


def test_put_with_older_source_timestamp_is_refused(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    client.put(
        "/v1/customers/c-1", json={**CUSTOMER, "source_updated_at": "2026-05-01T00:00:00Z"}, headers=crm
    )
    stale = client.put(
        "/v1/customers/c-1", json={"traits": {}, "source_updated_at": "2026-04-01T00:00:00Z"}, headers=crm
    )
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/customers/c-1", headers=crm).json()["traits"] == CUSTOMER["traits"]


def test_get_unknown_customer_is_404(client: TestClient, make_key) -> None:
    response = client.get("/v1/customers/nobody", headers=make_key("crm"))
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_list_pages_through_every_customer_once(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    for n in range(7):
        client.put(f"/v1/customers/c-{n}", json=CUSTOMER, headers=crm)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/customers", params=params, headers=crm).json()
        seen += [c["external_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"c-{n}" for n in range(7)]


def test_bad_cursor_is_400(client: TestClient, make_key) -> None:
    response = client.get("/v1/customers", params={"cursor": "!!nope"}, headers=make_key("crm"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "query.cursor"


def test_preferences_are_replaced(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    client.put("/v1/customers/c-1", json=CUSTOMER, headers=crm)
    first = {
        "preferences": [
            {"attribute": "genre", "value": "crime", "weight": 1.0, "source": "stated"},
            {"attribute": "genre", "value": "poetry", "weight": 0.5, "source": "crm"},
        ]
    }
    client.put("/v1/customers/c-1/preferences", json=first, headers=crm)
    second = {
        "preferences": [{"attribute": "author", "value": "A. Writer", "weight": 2, "source": "inferred"}]
    }
    body = client.put("/v1/customers/c-1/preferences", json=second, headers=crm).json()
    assert [(p["attribute"], p["value"], p["weight"], p["source"]) for p in body["preferences"]] == [
        ("author", "A. Writer", 2.0, "inferred")
    ]


def test_preferences_of_unknown_customer_is_404(client: TestClient, make_key) -> None:
    body = {"preferences": [{"attribute": "genre", "value": "crime"}]}
    assert client.put("/v1/customers/zz/preferences", json=body, headers=make_key("crm")).status_code == 404


def test_events_accept_reject_and_replay(client: TestClient, make_key) -> None:
    store = make_key("storefront")
    batch = {
        "events": [
            event(1),
            event(2, attribute="genre", item_id=None),
            event(3, item_id=None, attribute="payment_terms", value="monthly"),
            event(4, weight="heavy"),
            event(1),
        ]
    }
    first = client.post("/v1/events", json=batch, headers=store).json()
    assert (first["accepted"], first["duplicates"], first["rejected"]) == (2, 1, 2)
    reasons = {r["index"]: r["reason"] for r in first["rejected_events"]}
    assert "attribute and value" in reasons[1] and "weight" in reasons[3]
    replay = client.post("/v1/events", json=batch, headers=store).json()
    assert (replay["accepted"], replay["duplicates"], replay["rejected"]) == (0, 3, 2)


def test_event_for_unknown_customer_creates_it_with_tenant_default(client: TestClient, make_key) -> None:
    client.post("/v1/events", json={"events": [event(1, customer="new")]}, headers=make_key("storefront"))
    customer = client.get("/v1/customers/new", headers=make_key("crm")).json()
    assert customer["consent"] == {"personalization": True, "profiling": True}
    client.post(
        "/v1/events",
        json={"events": [event(2, customer="late")]},
        headers=make_key("storefront", tenant="optin", opt_in=True),
    )
    late = client.get("/v1/customers/late", headers=make_key("crm", tenant="optin")).json()
    assert late["consent"]["personalization"] is False


def test_oversize_event_batch_is_413(client: TestClient, make_key) -> None:
    batch = {"events": [event(n) for n in range(101)]}
    response = client.post("/v1/events", json=batch, headers=make_key("storefront"))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_oversize_body_is_413(client: TestClient, make_key) -> None:
    big = {"traits": {"blob": "x" * 70_000}}
    response = client.put("/v1/customers/c-1", json=big, headers=make_key("crm"))
    assert response.status_code == 413
    assert response.json()["title"] == "Payload too large"


def test_malformed_json_is_400(client: TestClient, make_key) -> None:
    headers = {**make_key("crm"), "content-type": "application/json"}
    response = client.put("/v1/customers/c-1", content=b'{"traits": ', headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_form_body_is_415(client: TestClient, make_key) -> None:
    response = client.post(
        "/v1/events",
        content=b"events=1",
        headers={**make_key("crm"), "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


def test_wrong_types_and_unknown_fields_name_the_field(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    wrong = client.put(
        "/v1/customers/c-1", json={"traits": [], "consent": {"personalization": "maybe"}}, headers=crm
    )
    assert wrong.status_code == 422
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert {"body.traits", "body.consent.personalization"} <= fields
    unknown = client.put("/v1/customers/c-1", json={"traits": {}, "colour": "red"}, headers=crm)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.colour"


def test_event_batch_bodies_of_the_wrong_shape_name_the_field(client: TestClient, make_key) -> None:
    store = {**make_key("storefront"), "content-type": "application/json"}
    shapes = {
        b'{"events": 5}': "body.events",
        b'{"events": [], "colour": "red"}': "body.colour",
        b'{"events": [{}, 3]}': "body.events[1]",
        b"[]": "body",
    }
    for body, field in shapes.items():
        response = client.post("/v1/events", content=body, headers=store)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field, (body, response.json())
    malformed = client.post("/v1/events", content=b'{"events": [', headers=store)
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "body"
