"""The OpenAPI document: stable ids, tags, and every status an operation answers declared as a problem."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.openapi import OPERATIONS

PROBLEM_JSON = "application/problem+json"
ROLES = ("admin", "marketer", "crm", "storefront")
Operations = list[tuple[str, str, dict[str, Any]]]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The document of an app that is never started."""
    return create_app(Settings(database_url="sqlite://", environment="test")).openapi()


def operations(document: dict[str, Any]) -> Operations:
    """(method, path, operation) for every operation of the document."""
    return [(m.upper(), p, op) for p, item in document["paths"].items() for m, op in item.items()]


def test_every_route_has_a_listed_camel_case_id_and_the_ids_are_unique(document: dict[str, Any]) -> None:
    routes = {(method, path) for method, path, _ in operations(document)}
    assert routes == set(OPERATIONS), routes ^ set(OPERATIONS)
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i) for i in ids), ids
    for method, path, op in operations(document):
        assert op["operationId"] == OPERATIONS[(method, path)].id


def test_the_ids_a_client_is_built_on_stay_put(document: dict[str, Any]) -> None:
    ids = {(m, p): op["operationId"] for m, p, op in operations(document)}
    assert ids[("PUT", "/v1/customers/{external_id}")] == "putCustomer"
    assert ids[("GET", "/v1/customers/{external_id}")] == "getCustomer"
    assert ids[("GET", "/v1/customers")] == "listCustomers"
    assert ids[("POST", "/v1/events")] == "postEvents"
    assert ids[("GET", "/v1/customers/{external_id}/recommendations")] == "getRecommendations"
    assert ids[("POST", "/v1/sync/customers")] == "syncCustomers"
    assert ids[("GET", "/v1/sync/changes")] == "getChanges"


def test_every_operation_has_one_described_tag(document: dict[str, Any]) -> None:
    described = {tag["name"] for tag in document["tags"]}
    used = {tuple(op["tags"]) for _, _, op in operations(document)}
    assert all(len(tags) == 1 for tags in used)
    assert {tags[0] for tags in used} == described


def test_every_error_is_a_problem_and_fastapis_422_shape_is_gone(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert schemas["Problem"]["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    for method, path, op in operations(document):
        errors = {int(s): r for s, r in op["responses"].items() if int(s) >= 400}
        assert 500 in errors, (method, path)
        assert 503 in errors or path == "/healthz", (method, path)
        if op.get("security"):
            assert {401, 403} <= set(errors), (method, path)
        if "requestBody" in op:
            assert {400, 413, 415, 422} <= set(errors), (method, path)
        for status, response in errors.items():
            assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
            assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert ("Retry-After" in response.get("headers", {})) == (status in (429, 503))


def test_created_and_accepted_are_declared_where_returned(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in ("/v1/customers/{external_id}", "/v1/touchpoints/{name}", "/v1/attributes/{name}"):
        responses = paths[path]["put"]["responses"]
        assert responses["201"]["content"] == responses["200"]["content"]
    assert "202" in paths["/v1/models/runs"]["post"]["responses"]
    assert "202" in paths["/v1/tailoring/runs"]["post"]["responses"]


def test_bulk_bodies_are_a_json_array_or_ndjson_of_one_named_row(document: dict[str, Any]) -> None:
    for path, row in (("/v1/sync/customers", "CustomerSyncRow"), ("/v1/sync/items", "ItemSyncRow")):
        content = document["paths"][path]["post"]["requestBody"]["content"]
        ref = {"$ref": f"#/components/schemas/{row}"}
        assert content == {
            "application/json": {"schema": {"type": "array", "items": ref}},
            "application/x-ndjson": {"schema": ref},
        }
        assert document["components"]["schemas"][row]["type"] == "object"


def _path_value(parameter: dict[str, Any]) -> str:
    """A well-formed value of a path parameter that names nothing stored."""
    return "999999" if parameter["schema"].get("type") == "integer" else "nope-404"


def _requests(method: str, path: str, op: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Requests that should fail: bad bodies, malformed JSON, the wrong content type, bad parameters."""
    yield {}
    if "requestBody" in op:
        yield {"json": {"bogus": 1}}
        yield {"json": [{"bogus": 1}]}
        yield {"content": b"{not json", "headers": {"content-type": "application/json"}}
        yield {"content": b"a=1", "headers": {"content-type": "application/x-www-form-urlencoded"}}
    if any(p["in"] == "query" for p in op.get("parameters", [])):
        yield {"params": {p["name"]: "-1" for p in op["parameters"] if p["in"] == "query"}}
        yield {"params": {"cursor": "garbage", "after": "garbage"}}


def test_every_status_an_operation_answers_is_declared_with_its_problem(
    client: TestClient, make_key: Any
) -> None:
    keys = {role: make_key(role) for role in ROLES}
    seen: set[int] = set()
    document = client.get("/openapi.json").json()
    for method, path, op in operations(document):
        url = path
        for parameter in (p for p in op.get("parameters", []) if p["in"] == "path"):
            url = url.replace("{" + parameter["name"] + "}", _path_value(parameter))
        for headers in ({}, {"Authorization": "Bearer tw_unknown"}, *keys.values()):
            for extra in _requests(method, path, op):
                request_headers = {**headers, **extra.pop("headers", {})}
                response = client.request(method, url, headers=request_headers, **extra)
                status = response.status_code
                seen.add(status)
                assert str(status) in op["responses"], (method, path, headers, extra, status, response.text)
                if status >= 400:
                    assert response.headers["content-type"] == PROBLEM_JSON, (method, path, status)
                    declared = op["responses"][str(status)]["content"]
                    assert PROBLEM_JSON in declared
                    assert {"type", "title", "status", "detail"} <= set(response.json())
        if "requestBody" in op:  # the size limit answers before the key is read
            response = client.request(method, url, content=b"[" + b" " * 2_100_000 + b"]")
            seen.add(response.status_code)
            assert response.status_code == 413
            assert "413" in op["responses"]
    assert {400, 401, 403, 404, 413, 415, 422} <= seen, seen
