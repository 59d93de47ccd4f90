"""Item sync, item values and reads over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.catalog import repository
from service.db import session_scope

NDJSON = {"content-type": "application/x-ndjson"}


def item(n: int, at: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid item row."""
    row: dict[str, Any] = {"item_id": f"b-{n}", "attributes": {"genre": "crime", "author": ["A. Writer"]}}
    if at:
        row["source_updated_at"] = at
    return {**row, **fields}


def sync(client: TestClient, headers: dict[str, str], rows: list[Any]) -> dict[str, Any]:
    """Post item rows as NDJSON."""
    body = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    response = client.post("/v1/sync/items", content=body, headers={**headers, **NDJSON})
    assert response.status_code == 200, response.text
    return response.json()


def counts(result: dict[str, Any]) -> tuple[int, ...]:
    """(created, updated, unchanged, stale, invalid)."""
    return tuple(result[k] for k in ("created", "updated", "unchanged", "stale", "invalid"))


def test_items_are_stored_with_values(client: TestClient, make_key) -> None:
    crm, store = make_key("crm"), make_key("storefront")
    client.put(
        "/v1/attributes/price", json={"kind": "numeric", "bins": [10, 20]}, headers=make_key("marketer")
    )
    rows = [
        item(1, attributes={"genre": "crime", "author": ["A. Writer", "B. Other"], "price": 12.5}),
        item(2, attributes={"genre": "poetry", "price": 5, "pages": 320, "signed": True}),
        item(3, attributes={"price": 20}),
    ]
    assert counts(sync(client, store, rows)) == (3, 0, 0, 0, 0)
    one = client.get("/v1/items/b-1", headers=make_key("marketer")).json()
    assert one["values"] == {"author": ["A. Writer", "B. Other"], "genre": ["crime"], "price": ["[10,20)"]}
    assert one["attributes"]["price"] == 12.5 and one["active"] is True
    two = client.get("/v1/items/b-2", headers=crm).json()["values"]
    assert two == {"genre": ["poetry"], "pages": ["320"], "price": ["(-inf,10)"], "signed": ["true"]}
    assert client.get("/v1/items/b-3", headers=crm).json()["values"] == {"price": ["[20,inf)"]}
    assert client.get("/v1/items/nope", headers=crm).status_code == 404


def test_last_writer_wins_replay_and_deactivation(client: TestClient, make_key, db) -> None:
    crm = make_key("crm")
    new = item(1, "2026-02-01T00:00:00Z", attributes={"genre": "new"})
    old = item(1, "2026-01-01T00:00:00Z", attributes={"genre": "old"})
    assert counts(sync(client, crm, [new, item(2)])) == (2, 0, 0, 0, 0)
    assert counts(sync(client, crm, [old])) == (0, 0, 0, 1, 0)
    assert counts(sync(client, crm, [new, item(2)])) == (0, 0, 2, 0, 0)
    assert client.get("/v1/items/b-1", headers=crm).json()["values"] == {"genre": ["new"]}
    assert counts(sync(client, crm, [item(2, active=False)])) == (0, 1, 0, 0, 0)
    assert client.get("/v1/items/b-2", headers=crm).json()["active"] is False
    untimed = item(1, attributes={"genre": "untimed"})
    assert counts(sync(client, crm, [untimed])) == (0, 1, 0, 0, 0)
    stored = client.get("/v1/items/b-1", headers=crm).json()
    assert stored["values"] == {"genre": ["untimed"]}
    assert stored["source_updated_at"].startswith("2026-02-01")
    with session_scope(db.engine) as session:
        tid = session.execute(sa.text("SELECT id FROM tenants WHERE name = 'acme'")).scalar_one()
        assert repository.active_item_ids(session, tid) == ["b-1"]


def test_duplicates_in_batch_and_invalid_rows(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    client.put("/v1/attributes/genre", json={"kind": "categorical"}, headers=crm)
    client.put("/v1/attributes/price", json={"kind": "numeric", "bins": [10]}, headers=crm)
    rows = [
        item(1, "2026-01-02T00:00:00Z", attributes={"genre": "winner"}),
        item(1, attributes={"genre": "no timestamp loses"}),
        item(1, "2026-01-01T00:00:00Z", attributes={"genre": "older"}),
        item(2, attributes={"genre": ["a", "b"]}),
        item(3, attributes={"price": "cheap"}),
        item(4, attributes={"bad name": 1}),
        item(5, attributes={"genre": {"nested": 1}}),
        item(6, active="yes"),
        {"attributes": {}},
        item(7, attributes={}),
    ]
    result = sync(client, crm, rows)
    assert counts(result) == (2, 0, 0, 2, 6)
    reasons = {r["line"]: r["reason"] for r in result["invalid_rows"]}
    assert reasons[4].startswith("attributes.genre:") and "categorical" in reasons[4]
    assert reasons[5].startswith("attributes.price:") and "numeric" in reasons[5]
    assert reasons[6].startswith("attributes.bad name:")
    assert reasons[7].startswith("attributes.genre:")
    assert reasons[8].startswith("active:")
    assert reasons[9] == "item_id: field required"
    assert client.get("/v1/items/b-1", headers=crm).json()["values"] == {"genre": ["winner"]}


def test_defining_an_attribute_later_bins_stored_values(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    sync(client, crm, [item(1, attributes={"price": 15, "genre": "x"}), item(2, attributes={"price": "n/a"})])
    assert client.get("/v1/items/b-1", headers=crm).json()["values"]["price"] == ["15"]
    client.put("/v1/attributes/price", json={"kind": "numeric", "bins": [10, 20]}, headers=crm)
    assert client.get("/v1/items/b-1", headers=crm).json()["values"] == {"genre": ["x"], "price": ["[10,20)"]}
    assert client.get("/v1/items/b-2", headers=crm).json()["values"] == {}
    client.put("/v1/attributes/price", json={"kind": "categorical"}, headers=crm)
    assert client.get("/v1/items/b-2", headers=crm).json()["values"] == {"price": ["n/a"]}


def test_roles_tenants_and_limits(client: TestClient, make_key) -> None:
    body = orjson.dumps(item(1))
    assert (
        client.post("/v1/sync/items", content=body, headers={**make_key("marketer"), **NDJSON}).status_code
        == 403
    )
    a, b = make_key("storefront", tenant="a"), make_key("crm", tenant="b")
    assert counts(sync(client, a, [item(1)]))[0] == 1
    assert client.get("/v1/items/b-1", headers=b).status_code == 404
    many = b"\n".join(orjson.dumps(item(n)) for n in range(1_001))
    too_many = client.post("/v1/sync/items", content=many, headers={**a, **NDJSON})
    assert too_many.status_code == 413
    assert too_many.headers["content-type"] == "application/problem+json"
    array = client.post("/v1/sync/items", json=[item(5), {"item_id": 1}], headers=a).json()
    assert counts(array) == (1, 0, 0, 0, 1) and array["invalid_rows"][0]["line"] == 2
