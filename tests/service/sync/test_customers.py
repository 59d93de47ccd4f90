"""Bulk customer sync over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient

NDJSON = {"content-type": "application/x-ndjson"}


def row(n: int | str, at: str = "2026-01-01T00:00:00Z", **fields: Any) -> dict[str, Any]:
    """A valid customer row."""
    return {
        "external_id": f"c-{n}",
        "traits": {"segment": "gold", "n": n},
        "consent": {"personalization": True, "profiling": False},
        "source_updated_at": at,
        **fields,
    }


def ndjson(rows: list[Any]) -> bytes:
    """Rows as NDJSON."""
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def sync(client: TestClient, headers: dict[str, str], rows: list[Any]) -> dict[str, Any]:
    """Post rows as NDJSON and return the result."""
    response = client.post("/v1/sync/customers", content=ndjson(rows), headers={**headers, **NDJSON})
    assert response.status_code == 200, response.text
    return response.json()


def counts(result: dict[str, Any]) -> tuple[int, ...]:
    """(created, updated, unchanged, stale, invalid)."""
    return tuple(result[k] for k in ("created", "updated", "unchanged", "stale", "invalid"))


def test_create_then_replay_is_unchanged(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    rows = [row(n) for n in range(5)]
    assert counts(sync(client, crm, rows)) == (5, 0, 0, 0, 0)
    assert counts(sync(client, crm, rows)) == (0, 0, 5, 0, 0)
    stored = client.get("/v1/customers/c-3", headers=crm).json()
    assert stored["traits"] == {"segment": "gold", "n": 3}
    assert stored["consent"] == {"personalization": True, "profiling": False}
    assert stored["source_updated_at"].startswith("2026-01-01T00:00:00")


def test_last_writer_wins_with_out_of_order_batches(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    newer = [row(1, "2026-03-01T00:00:00Z", traits={"v": "new"}), row(2, "2026-03-01T00:00:00Z")]
    older = [row(1, "2026-02-01T00:00:00Z", traits={"v": "old"}), row(2, "2026-04-01T00:00:00+02:00")]
    assert counts(sync(client, crm, newer)) == (2, 0, 0, 0, 0)
    assert counts(sync(client, crm, older)) == (0, 1, 0, 1, 0)
    assert client.get("/v1/customers/c-1", headers=crm).json()["traits"] == {"v": "new"}
    assert client.get("/v1/customers/c-2", headers=crm).json()["traits"] == {"segment": "gold", "n": 2}
    same_time_new_content = [row(1, "2026-03-01T01:00:00+01:00", traits={"v": "tie"})]
    assert counts(sync(client, crm, same_time_new_content)) == (0, 1, 0, 0, 0)
    assert client.get("/v1/customers/c-1", headers=crm).json()["traits"] == {"v": "tie"}


def test_customer_put_without_timestamp_is_overwritten(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    client.put("/v1/customers/c-1", json={"traits": {"from": "put"}}, headers=crm)
    assert counts(sync(client, crm, [row(1)])) == (0, 1, 0, 0, 0)


def test_mixed_valid_and_invalid_rows(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    rows = [
        row(1),
        row(2, consent={"personalization": "yes", "profiling": True}),
        {k: v for k, v in row(3).items() if k != "source_updated_at"},
        row(4, source_updated_at="2026-01-01T00:00:00"),
        row(5, colour="red"),
        row(6, external_id="   "),
        row(7, traits=[1, 2]),
        row(8, preferences=[{"attribute": "genre", "value": "crime", "weight": -1}]),
        row(9, traits={"nul": "a\x00b"}),
        [1, 2],
        row(10),
    ]
    result = sync(client, crm, rows)
    assert counts(result) == (2, 0, 0, 0, 9)
    reasons = {r["line"]: r["reason"] for r in result["invalid_rows"]}
    assert reasons[2].startswith("consent.personalization:")
    assert reasons[3] == "source_updated_at: field required"
    assert "time zone" in reasons[4]
    assert reasons[5] == "colour: unknown field"
    assert reasons[6].startswith("external_id:")
    assert reasons[7].startswith("traits:")
    assert reasons[8].startswith("preferences[0].weight:")
    assert "NUL" in reasons[9]
    assert reasons[10].startswith("row:")
    assert client.get("/v1/customers/c-10", headers=crm).status_code == 200
    assert client.get("/v1/customers/c-2", headers=crm).status_code == 404


def test_ndjson_with_broken_line_and_blank_lines(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    body = orjson.dumps(row(1)) + b"\n\n{not json\n" + orjson.dumps(row(2)) + b"\r\n" + orjson.dumps(row(3))
    response = client.post("/v1/sync/customers", content=body, headers={**crm, **NDJSON})
    result = response.json()
    assert counts(result) == (3, 0, 0, 0, 1)
    assert result["invalid_rows"][0]["line"] == 3
    assert "not valid JSON" in result["invalid_rows"][0]["reason"]
    assert client.get("/v1/customers/c-3", headers=crm).status_code == 200


def test_json_array_reports_positions(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    response = client.post("/v1/sync/customers", json=[row(1), {"external_id": "x"}, row(2)], headers=crm)
    result = response.json()
    assert counts(result) == (2, 0, 0, 0, 1)
    assert result["invalid_rows"] == [{"line": 2, "reason": "traits: field required"}]


def test_duplicates_in_one_batch_greatest_timestamp_then_later_line_wins(
    client: TestClient, make_key
) -> None:
    crm = make_key("crm")
    rows = [
        row(1, "2026-01-02T00:00:00Z", traits={"pick": "newest"}),
        row(1, "2026-01-01T00:00:00Z", traits={"pick": "older"}),
        row(2, "2026-01-01T00:00:00Z", traits={"pick": "first"}),
        row(2, "2026-01-01T00:00:00Z", traits={"pick": "later line"}),
    ]
    assert counts(sync(client, crm, rows)) == (2, 0, 0, 2, 0)
    assert client.get("/v1/customers/c-1", headers=crm).json()["traits"] == {"pick": "newest"}
    assert client.get("/v1/customers/c-2", headers=crm).json()["traits"] == {"pick": "later line"}


def test_preferences_are_replaced_kept_or_compared(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    prefs = [
        {"attribute": "genre", "value": "crime", "weight": 0.5, "source": "crm"},
        {"attribute": "author", "value": "A. Writer"},
    ]
    assert counts(sync(client, crm, [row(1, preferences=prefs)])) == (1, 0, 0, 0, 0)
    stored = client.get("/v1/customers/c-1", headers=crm).json()["preferences"]
    assert [(p["attribute"], p["value"], p["weight"], p["source"]) for p in stored] == [
        ("author", "A. Writer", 1.0, "stated"),
        ("genre", "crime", 0.5, "crm"),
    ]
    assert counts(sync(client, crm, [row(1, preferences=list(reversed(prefs)))])) == (0, 0, 1, 0, 0)
    assert counts(sync(client, crm, [row(1)])) == (0, 0, 1, 0, 0)
    assert len(client.get("/v1/customers/c-1", headers=crm).json()["preferences"]) == 2
    assert counts(sync(client, crm, [row(1, preferences=prefs[:1])])) == (0, 1, 0, 0, 0)
    assert len(client.get("/v1/customers/c-1", headers=crm).json()["preferences"]) == 1
    assert counts(sync(client, crm, [row(1, preferences=[])])) == (0, 1, 0, 0, 0)
    assert client.get("/v1/customers/c-1", headers=crm).json()["preferences"] == []


def test_tenants_are_isolated(client: TestClient, make_key) -> None:
    a, b = make_key("crm", tenant="a"), make_key("crm", tenant="b")
    assert counts(sync(client, a, [row(1, traits={"t": "a"})])) == (1, 0, 0, 0, 0)
    assert counts(sync(client, b, [row(1, "2025-01-01T00:00:00Z", traits={"t": "b"})])) == (1, 0, 0, 0, 0)
    assert client.get("/v1/customers/c-1", headers=a).json()["traits"] == {"t": "a"}
    assert client.get("/v1/customers/c-1", headers=b).json()["traits"] == {"t": "b"}


def test_roles(client: TestClient, make_key) -> None:
    body = ndjson([row(1)])
    for role, status in (("storefront", 403), ("marketer", 403), ("crm", 200), ("admin", 200)):
        response = client.post("/v1/sync/customers", content=body, headers={**make_key(role), **NDJSON})
        assert response.status_code == status, role
    assert client.post("/v1/sync/customers", content=body, headers=NDJSON).status_code == 401


def test_too_many_rows_is_413_and_nothing_lands(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    response = client.post(
        "/v1/sync/customers", content=ndjson([row(n) for n in range(1_001)]), headers={**crm, **NDJSON}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "1000" in response.json()["detail"]
    assert client.get("/v1/customers", headers=crm).json()["items"] == []
    assert counts(sync(client, crm, [row(n) for n in range(1_000)]))[0] == 1_000


def test_too_many_bytes_is_413(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    big = ndjson([row(n, traits={"blob": "x" * 4_000}) for n in range(600)])
    assert len(big) > 2 * 1024 * 1024
    declared = client.post("/v1/sync/customers", content=big, headers={**crm, **NDJSON})
    assert declared.status_code == 413
    streamed = client.post(
        "/v1/sync/customers", content=iter([big[:1_000_000], big[1_000_000:]]), headers={**crm, **NDJSON}
    )
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/customers", headers=crm).json()["items"] == []


def test_bad_bodies(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    form = client.post("/v1/sync/customers", content=b"a=1", headers={**crm, "content-type": "text/csv"})
    assert form.status_code == 415
    broken = client.post(
        "/v1/sync/customers", content=b"[{", headers={**crm, "content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["field"] == "body"
    not_array = client.post("/v1/sync/customers", json={"rows": []}, headers=crm)
    assert not_array.status_code == 400
    empty = client.post("/v1/sync/customers", content=b"", headers={**crm, **NDJSON})
    assert counts(empty.json()) == (0, 0, 0, 0, 0)


def test_awkward_text_survives_the_copy(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    traits = {
        "path": "C:\\temp\\new",
        "tab": "a\tb",
        "quote": 'say "hi"',
        "text \\u0000": "not a NUL",
        "ü": "✓",
    }
    prefs = [{"attribute": "author", "value": "O\\'Brien\ttab", "weight": 0.25}]
    weird = "we\\ird\tid"
    assert counts(sync(client, crm, [row(1, external_id=weird, traits=traits, preferences=prefs)]))[0] == 1
    stored = client.get("/v1/customers", headers=crm).json()["items"][0]
    assert stored["external_id"] == weird
    assert stored["traits"] == traits
    assert [(p["value"], p["weight"]) for p in stored["preferences"]] == [("O\\'Brien\ttab", 0.25)]
    replay = sync(client, crm, [row(1, external_id=weird, traits=traits, preferences=prefs)])
    assert counts(replay) == (0, 0, 1, 0, 0)


def test_openapi_documents_both_bodies(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/sync/customers"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/x-ndjson", "application/json"}
    refs = {r.split("/")[-1] for r in _refs(body)}
    assert refs <= set(spec["components"]["schemas"]), refs - set(spec["components"]["schemas"])


def _refs(node: Any) -> list[str]:
    """Every $ref below a node of a JSON document."""
    if isinstance(node, dict):
        return [node["$ref"]] if "$ref" in node else [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_timestamps_in_any_iso_form_mean_the_same_instant(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    assert counts(sync(client, crm, [row(1, "2026-01-01 02:00:00.500+02:00")]))[0] == 1
    assert counts(sync(client, crm, [row(1, "2026-01-01T00:00:00.5Z")])) == (0, 0, 1, 0, 0)
    assert counts(sync(client, crm, [row(1, "2025-12-31T23:59:59.999999Z")])) == (0, 0, 0, 1, 0)
    stored = client.get("/v1/customers/c-1", headers=crm).json()["source_updated_at"]
    assert stored.startswith("2026-01-01T00:00:00.5")
