"""Hostile inputs are answered 4xx naming the field, never 500, and never stored to break later reads."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

NDJSON = {"content-type": "application/x-ndjson"}
JSON = {"content-type": "application/json"}
HUGE = str(2**63)
DEEP = '{"a":' * 300 + "1" + "}" * 300


def raw_traits(traits_json: str) -> bytes:
    """A PUT /v1/customers body whose traits are given as raw JSON text."""
    return ('{"traits": ' + traits_json + "}").encode()


BODY_TRAITS = {
    "nul value": '{"x": "a\\u0000b"}',
    "nul key": '{"a\\u0000": 1}',
    "lone surrogate value": '{"x": "\\ud800"}',
    "lone surrogate key": '{"\\udfff": 1}',
    "NaN": '{"x": NaN}',
    "Infinity": '{"x": [1, -Infinity]}',
    "1e309": '{"x": {"y": 1e309}}',
    "deep nesting": '{"x": ' + DEEP + "}",
}


@pytest.mark.parametrize("traits", BODY_TRAITS.values(), ids=BODY_TRAITS.keys())
def test_put_customer_refuses_hostile_traits(client: TestClient, make_key, traits: str) -> None:
    crm = make_key("crm")
    response = client.put("/v1/customers/c-1", content=raw_traits(traits), headers={**crm, **JSON})
    assert response.status_code == 422, response.text
    assert any(e["field"].startswith("body.traits") for e in response.json()["errors"]), response.text
    assert client.get("/v1/customers/c-1", headers=crm).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/v1/customers/a%00b",
        "/v1/customers/a%00b/preferences",
        "/v1/customers/a%00b/export",
        "/v1/customers/a%00b/recommendations",
        "/v1/customers/a%00b/treatment",
        "/v1/customers/a%00b/engagement",
        "/v1/customers/a%00b/tailoring",
        "/v1/items/a%00b",
        "/v1/items/a%00b/similar",
        "/v1/attributes/a%00b",
        "/v1/touchpoints/a%00b",
        "/v1/tailoring/attributes/a%00b",
        "/v1/customers?cursor=%00",
        "/v1/audit?action=a%00b",
        "/v1/sync/changes?after=%00",
        "/v1/customers/c-1/recommendations?exclude=a%00b&filter=color:a%00b",
        "/v1/customers/c-1/treatment?touchpoint=a%00b",
        f"/v1/models/runs/{HUGE}",
        f"/v1/models/{HUGE}",
        f"/v1/tailoring/runs/{HUGE}",
        f"/v1/models/runs/-{HUGE}1",
        "/v1/customers?cursor=" + base64.urlsafe_b64encode(HUGE.encode()).decode().rstrip("="),
        "/v1/customers/c-1/recommendations?k=" + HUGE,
        "/v1/customers/c-1/tailoring?top=" + HUGE,
    ],
)
def test_hostile_path_and_query_are_4xx(client: TestClient, make_key, path: str) -> None:
    admin = make_key("admin")
    response = client.get(path, headers=admin)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    fields = [e["field"] for e in response.json().get("errors", [])]
    if "%00" in path:
        assert response.status_code == 400, response.text
        assert fields and fields[0] == (
            "path" if "?" not in path else f"query.{path.split('?')[1].split('=')[0]}"
        )
    elif HUGE in path:
        assert fields and fields[0].split(".")[0] in ("path", "query"), response.text


def test_nul_in_path_of_writes_is_4xx(client: TestClient, make_key) -> None:
    admin = make_key("admin")
    assert client.put("/v1/customers/a%00b", json={"traits": {}}, headers=admin).status_code == 400
    attribute = {"kind": "categorical"}
    assert client.put("/v1/attributes/a%00b", json=attribute, headers=admin).status_code == 400
    assert client.delete("/v1/customers/a%00b", headers=admin).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "categorical", "description": "a\x00b"}, "body.description"),
        ({"kind": "categorical", "description": "\ud800"}, "body.description"),
    ],
)
def test_attribute_text_refuses_nul_and_surrogates(
    client: TestClient, make_key, body: Any, field: str
) -> None:
    marketer = make_key("marketer")
    raw = (
        orjson.dumps(body)
        if "\ud800" not in body["description"]
        else b'{"kind": "categorical", "description": "\\ud800"}'
    )
    response = client.put("/v1/attributes/color", content=raw, headers={**marketer, **JSON})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


OUT_OF_RANGE = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "1899-12-31T23:59:59Z"]


@pytest.mark.parametrize("when", OUT_OF_RANGE)
def test_put_customer_refuses_timestamps_out_of_range(client: TestClient, make_key, when: str) -> None:
    crm = make_key("crm")
    response = client.put("/v1/customers/c-1", json={"traits": {}, "source_updated_at": when}, headers=crm)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body.source_updated_at"]


def _customer_row(external_id: str, when: str, traits: Any = None) -> dict[str, Any]:
    """A customer sync row."""
    consent = {"personalization": True, "profiling": True}
    return {"external_id": external_id, "traits": traits or {}, "consent": consent, "source_updated_at": when}


def test_sync_refuses_rows_that_would_break_reads(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    rows = [orjson.dumps(_customer_row(f"bad-{n}", when)) for n, when in enumerate(OUT_OF_RANGE)]
    rows.append(
        b'{"external_id": "nan", "traits": {"x": NaN}, "consent": {"personalization": true,'
        b' "profiling": true}, "source_updated_at": "2026-01-01T00:00:00Z"}'
    )
    rows.append(
        orjson.dumps(_customer_row("deep", "2026-01-01T00:00:00Z"))[:-1].replace(
            b'"traits":{}', b'"traits":' + DEEP.encode()
        )
        + b"}"
    )
    rows.append(orjson.dumps(_customer_row("good", "2026-01-01T00:00:00Z")))
    response = client.post("/v1/sync/customers", content=b"\n".join(rows), headers={**crm, **NDJSON})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["invalid"]) == (1, 5), result
    reasons = [r["reason"] for r in result["invalid_rows"]]
    assert all(r.startswith("source_updated_at") for r in reasons[:3]), reasons
    assert reasons[4].startswith("traits"), reasons
    assert client.get("/v1/customers", headers=crm).status_code == 200
    assert client.get("/v1/sync/changes", headers=crm).status_code == 200


def test_item_sync_refuses_timestamps_out_of_range(client: TestClient, make_key) -> None:
    crm = make_key("admin")
    rows = [
        {"item_id": f"i-{n}", "attributes": {}, "source_updated_at": w} for n, w in enumerate(OUT_OF_RANGE)
    ]
    response = client.post("/v1/sync/items", json=rows, headers=crm)
    assert response.status_code == 200, response.text
    assert response.json()["invalid"] == 3, response.text
    assert client.get("/v1/items/i-0", headers=crm).status_code == 404


def _event(n: int, **fields: Any) -> dict[str, Any]:
    """A valid event."""
    return {
        "event_id": f"e-{n}",
        "customer_id": "c-1",
        "type": "purchase",
        "item_id": "i-1",
        "occurred_at": "2026-01-01T00:00:00Z",
        **fields,
    }


HOSTILE_EVENTS = {
    "type longer than its column": _event(1, type="t" * 41),
    "occurred_at before year 1": _event(2, occurred_at="0001-01-01T00:00:00+01:00"),
    "occurred_at after 9999": _event(3, occurred_at="9999-12-31T23:59:59-01:00"),
    "nul in event_id": _event(4, event_id="e\x004"),
    "nul in item_id": _event(5, item_id="i\x00"),
    "nul in customer_id": _event(6, customer_id="c\x00"),
}


def test_hostile_events_are_rejected_one_by_one(client: TestClient, make_key) -> None:
    storefront = make_key("storefront")
    events = [_event(0), *HOSTILE_EVENTS.values(), _event(9)]
    response = client.post("/v1/events", json={"events": events}, headers=storefront)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (2, len(HOSTILE_EVENTS)), result
    reasons = {r["index"]: r["reason"] for r in result["rejected_events"]}
    assert reasons[1].startswith("type"), reasons
    assert reasons[2].startswith("occurred_at") and reasons[3].startswith("occurred_at"), reasons
    export = client.get("/v1/customers/c-1/export", headers=make_key("admin"))
    assert export.status_code == 200, export.text
    assert len(export.json()["events"]) == 2


def test_sync_takes_offsets_postgres_cannot_parse(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    row = orjson.dumps(_customer_row("far", "3939-09-07T16:25:19+20:55"))
    response = client.post("/v1/sync/customers", content=row, headers={**crm, **NDJSON})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1, response.text
    stored = client.get("/v1/customers/far", headers=crm).json()
    assert stored["source_updated_at"].startswith("3939-09-06T19:30:19"), stored
