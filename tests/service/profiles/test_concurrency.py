"""Concurrent writers of the same customers: last writer wins, creation never answers 500."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

CLIENTS = 8
CUSTOMERS = 6
ROUNDS = 12
START = datetime(2026, 1, 1, tzinfo=UTC)


def _status(call: Callable[..., Any], path: str, **request: Any) -> int:
    """The status of a request; a server exception raised through the test client counts as 500."""
    try:
        return int(call(path, **request).status_code)
    except Exception:
        return 500


def _in_parallel(work: Callable[[int, threading.Barrier], list[tuple[int, Any]]]) -> list[tuple[int, Any]]:
    """Run work(client, barrier) for every client at once; all their (status, detail) pairs."""
    barrier = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda n: work(n, barrier), range(CLIENTS)))
    return [pair for result in results for pair in result]


def test_concurrent_creation_of_the_same_customers_answers_2xx(client: TestClient, make_key) -> None:
    crm = make_key("crm")

    def create(n: int, barrier: threading.Barrier) -> list[tuple[int, Any]]:
        out = []
        for c in range(CUSTOMERS):
            barrier.wait()
            body = {"traits": {"writer": n}}
            out.append((_status(client.put, f"/v1/customers/new-{c}", json=body, headers=crm), c))
        return out

    statuses = Counter(status for status, _ in _in_parallel(create))
    assert set(statuses) <= {200, 201}, statuses
    assert statuses[201] == CUSTOMERS, statuses


@pytest.mark.slow
def test_concurrent_puts_never_lose_an_acknowledged_newer_write(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    for c in range(CUSTOMERS):
        assert client.put(f"/v1/customers/c-{c}", json={"traits": {}}, headers=crm).status_code == 201

    def write(n: int, barrier: threading.Barrier) -> list[tuple[int, Any]]:
        out = []
        for r in range(ROUNDS):
            barrier.wait()
            for c in range(CUSTOMERS):
                version = r * CLIENTS + (n + c) % CLIENTS
                at = (START + timedelta(seconds=version)).isoformat()
                body = {"traits": {"version": version}, "source_updated_at": at}
                status = _status(client.put, f"/v1/customers/c-{c}", json=body, headers=crm)
                out.append((status, (c, version)))
        return out

    results = _in_parallel(write)
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {200, 201, 409}, statuses
    acknowledged: dict[int, int] = {}
    for status, (c, version) in results:
        if 200 <= status < 300:
            acknowledged[c] = max(acknowledged.get(c, -1), version)
    for c in range(CUSTOMERS):
        stored = client.get(f"/v1/customers/c-{c}", headers=crm).json()
        at = datetime.fromisoformat(stored["source_updated_at"])
        assert stored["traits"]["version"] == acknowledged[c] == (at - START).total_seconds(), (c, statuses)


def test_concurrent_event_batches_create_the_same_new_customers(client: TestClient, make_key) -> None:
    crm = make_key("crm")

    def post(n: int, barrier: threading.Barrier) -> list[tuple[int, Any]]:
        out = []
        for r in range(ROUNDS):
            events = [
                {
                    "event_id": f"e-{r}-{n}-{c}",
                    "customer_id": f"fresh-{r}-{c}",
                    "type": "purchase",
                    "item_id": f"b-{c}",
                    "occurred_at": "2026-01-01T10:00:00Z",
                }
                for c in range(CUSTOMERS)
            ]
            barrier.wait()
            out.append((_status(client.post, "/v1/events", json={"events": events}, headers=crm), r))
        return out

    statuses = Counter(status for status, _ in _in_parallel(post))
    assert statuses == {200: CLIENTS * ROUNDS}, statuses
    stored = client.get("/v1/customers", params={"limit": 1000}, headers=crm).json()["items"]
    assert len(stored) == ROUNDS * CUSTOMERS
