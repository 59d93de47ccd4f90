"""Event ingestion: batches of 1,000 over HTTP into PostgreSQL vs a plain psycopg executemany.

Run: .venv/bin/python -m bench.ingest [--events 100000]
"""

from __future__ import annotations

import argparse
import http.client
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa

from bench.harness import create_tenant_key, fresh_postgres, post_json, running_server

BATCH = 1_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def make_events(count: int, customers: int, prefix: str) -> list[dict[str, Any]]:
    """Purchase events spread over customers and items."""
    return [
        {
            "event_id": f"{prefix}-{n}",
            "customer_id": f"c-{n % customers}",
            "type": "purchase",
            "item_id": f"i-{(n * 7919) % 5_000}",
            "attribute": None,
            "value": None,
            "weight": 1.0,
            "occurred_at": (START + timedelta(seconds=n)).isoformat(),
        }
        for n in range(count)
    ]


def through_api(port: int, key: str, events: list[dict[str, Any]]) -> float:
    """Seconds to POST all events in batches on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        result = post_json(connection, "/v1/events", {"events": events[start : start + BATCH]}, key)
        assert result["accepted"] == len(events[start : start + BATCH]), result
    return time.perf_counter() - started


def plain_executemany(url: str, tenant: str, events: list[dict[str, Any]], customers: int) -> float:
    """Seconds to insert the same rows with psycopg executemany, one commit per batch."""
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        tenant_id = connection.execute("SELECT id FROM tenants WHERE name = %s", (tenant,)).fetchone()[0]  # type: ignore[index]
        connection.execute(
            "INSERT INTO customers (tenant_id, external_id, traits, consent_personalization,"
            " consent_profiling, created_at, updated_at) SELECT %s, 'c-' || g, '{}', true, true, now(), now()"
            " FROM generate_series(0, %s) g",
            (tenant_id, customers - 1),
        )
        ids: dict[str, int] = dict(
            connection.execute(
                "SELECT external_id, id FROM customers WHERE tenant_id = %s", (tenant_id,)
            ).fetchall()
        )
        connection.commit()
        rows = [
            (
                tenant_id,
                ids[e["customer_id"]],
                e["event_id"],
                e["type"],
                e["item_id"],
                None,
                None,
                e["weight"],
                e["occurred_at"],
            )
            for e in events
        ]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(
                    "INSERT INTO events (tenant_id, customer_id, event_id, type, item_id, attribute, value,"
                    " weight, occurred_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    rows[start : start + BATCH],
                )
                connection.commit()
        return time.perf_counter() - started


def main() -> None:
    """Measure both paths in one run and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    with fresh_postgres() as url, running_server(url) as port:
        key = create_tenant_key(url, "bench-api", "storefront")
        create_tenant_key(url, "bench-raw", "storefront")
        api_s = through_api(port, key, make_events(args.events, args.customers, "api"))
        raw_s = plain_executemany(
            url, "bench-raw", make_events(args.events, args.customers, "raw"), args.customers
        )
    api_rate, raw_rate = args.events / api_s, args.events / raw_s
    print(f"events: {args.events} in batches of {BATCH}, {args.customers} customers")
    print(f"HTTP /v1/events:        {api_s:7.2f} s  {api_rate:10.0f} events/s")
    print(f"psycopg executemany:    {raw_s:7.2f} s  {raw_rate:10.0f} rows/s")
    print(
        f"RESULT api_events_per_s={api_rate:.0f} executemany_rows_per_s={raw_rate:.0f} "
        f"ratio={api_rate / raw_rate:.2f}"
    )


if __name__ == "__main__":
    main()
