"""Schemathesis over every operation of /openapi.json with each role's key: never a 5xx but a 503.

Conformance of statuses and content types to the document is checked elsewhere; this run only asks
that the service never fails on what a client can send.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

ROLES = ("admin", "marketer", "crm", "storefront")
# Per operation; the roles take turns, so each role's key sends some of every operation's examples.
EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 3}


def seed(client: TestClient, admin: dict[str, str]) -> None:
    """A few customers, items, an attribute and events, so that reads find something."""
    client.put("/v1/attributes/color", json={"kind": "categorical"}, headers=admin)
    items = [{"item_id": f"i-{n}", "attributes": {"color": "red"}} for n in range(3)]
    client.post("/v1/sync/items", json=items, headers=admin)
    for n in range(3):
        client.put(f"/v1/customers/c-{n}", json={"traits": {"segment": "gold"}}, headers=admin)
    events = [
        {
            "event_id": f"e-{n}",
            "customer_id": "c-0",
            "type": "purchase",
            "item_id": f"i-{n}",
            "occurred_at": "2026-01-01T00:00:00Z",
        }
        for n in range(3)
    ]
    client.post("/v1/events", json={"events": events}, headers=admin)


def request_of(case: Any, key: dict[str, str]) -> dict[str, Any]:
    """The generated request as keyword arguments of the test client, with the role's key."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    kwargs["headers"] = {**kwargs.get("headers", {}), **key}
    return kwargs


@pytest.mark.slow
def test_no_server_errors(client: TestClient, make_key) -> None:
    seed(client, make_key("admin"))
    keys = [make_key(role) for role in ROLES]
    schema = schemathesis.openapi.from_dict(client.app.openapi())  # type: ignore[attr-defined]
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, examples in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal calls
                calls += 1
                response = client.request(**request_of(case, keys[calls % len(keys)]))
                if response.status_code != 503:
                    case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing in this operation can be made invalid
    assert calls >= len(list(schema.get_all_operations())) * len(ROLES)
