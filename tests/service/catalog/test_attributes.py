"""Attribute definitions over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

GENRE = {"kind": "categorical", "description": "Book genre", "f": 4, "u": 2.5, "c": 0.1}


def test_put_creates_then_replaces_and_lists(client: TestClient, make_key) -> None:
    marketer = make_key("marketer")
    created = client.put("/v1/attributes/genre", json=GENRE, headers=marketer)
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["f"], body["u"], body["c"]) == ("categorical", 4, 2.5, 0.1)
    assert (body["tau"], body["mode"], body["bins"]) == (None, "auto", None)
    replaced = client.put("/v1/attributes/genre", json={"kind": "multi-valued"}, headers=make_key("crm"))
    assert replaced.status_code == 200
    assert (replaced.json()["kind"], replaced.json()["f"], replaced.json()["description"]) == (
        "multi-valued",
        1,
        "",
    )
    client.put("/v1/attributes/author", json={"kind": "multi-valued"}, headers=marketer)
    names = [a["name"] for a in client.get("/v1/attributes", headers=make_key("storefront")).json()]
    assert names == ["author", "genre"]
    assert client.get("/v1/attributes/genre", headers=marketer).json()["kind"] == "multi-valued"
    assert client.get("/v1/attributes/nope", headers=marketer).status_code == 404


def test_numeric_needs_sorted_bins(client: TestClient, make_key) -> None:
    marketer = make_key("marketer")
    ok = client.put("/v1/attributes/price", json={"kind": "numeric", "bins": [10, 20, 50]}, headers=marketer)
    assert ok.status_code == 201 and ok.json()["bins"] == [10, 20, 50]
    for bad in ({"kind": "numeric"}, {"kind": "numeric", "bins": [20, 10]}, {"kind": "numeric", "bins": []}):
        response = client.put("/v1/attributes/price", json=bad, headers=marketer)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "body.bins"
    stray = client.put("/v1/attributes/genre", json={"kind": "categorical", "bins": [1]}, headers=marketer)
    assert stray.json()["errors"][0]["field"] == "body.bins"


def test_bad_input_names_the_field(client: TestClient, make_key) -> None:
    marketer = make_key("marketer")
    cases = {
        "body.kind": {"kind": "colour"},
        "body.f": {"kind": "categorical", "f": -1},
        "body.c": {"kind": "categorical", "c": "free"},
        "body.tau": {"kind": "categorical", "tau": 0.5},
    }
    for field, body in cases.items():
        response = client.put("/v1/attributes/genre", json=body, headers=marketer)
        assert response.status_code == 422
        assert field in {e["field"] for e in response.json()["errors"]}, field
    bad_name = client.put("/v1/attributes/bad name!", json=GENRE, headers=marketer)
    assert bad_name.status_code == 422
    assert bad_name.json()["errors"][0]["field"] == "path.name"


def test_roles_and_tenants(client: TestClient, make_key) -> None:
    assert client.put("/v1/attributes/genre", json=GENRE, headers=make_key("storefront")).status_code == 403
    assert client.put("/v1/attributes/genre", json=GENRE, headers=make_key("admin")).status_code == 201
    other = make_key("marketer", tenant="other")
    assert client.get("/v1/attributes", headers=other).json() == []
    assert client.get("/v1/attributes/genre", headers=other).status_code == 404
