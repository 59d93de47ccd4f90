"""Event ingestion: batches of 1,000 over HTTP into PostgreSQL vs COPY of the same rows, interleaved.

Run: .venv/bin/python -m bench.ingest [--events 100000] [--customers 10000]

Creates a throwaway database and serves the app with uvicorn on a free loopback port. Batch by batch,
it posts the events to POST /v1/events for one tenant, then loads the same rows for a second tenant of
the same table the fastest honest way: COPY into a temporary table and one INSERT ... SELECT ... ON
CONFLICT (tenant_id, event_id) DO NOTHING (the same dedupe), one transaction per batch. Its rows name
their customers as the API's do, and the insert finds them by key; its customers exist beforehand,
while the API creates its own on first sight (the first 10,000 events here). A third tenant gets the
same COPY with every customer's internal id known to the client beforehand, a path no API can take,
reported beside it. Interleaving keeps the paths under the same machine load. Last, one batch is sent
again: all duplicates.

Every measured tenant inserts into the middle of the indexes that lead with tenant_id, as all but the
newest tenant do: the warm-up tenant, created after them, holds rows there. The newest tenant's rows go
to those indexes' right edge, where PostgreSQL's B-tree inserts take a fast path (see bench/sync.py).
"""

from __future__ import annotations

import argparse
import http.client
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

from bench.harness import create_tenant_key, fresh_postgres, post_json, running_server

BATCH = 1_000
START = datetime(2026, 1, 1, tzinfo=UTC)
STAGE = """CREATE TEMPORARY TABLE IF NOT EXISTS raw_events (
    customer text, event_id text, type text, item_id text, attribute text, value text,
    weight float8, occurred_at timestamptz) ON COMMIT DELETE ROWS"""
INSERT = """INSERT INTO events (tenant_id, customer_id, event_id, type, item_id, attribute, value, weight,
    occurred_at)
SELECT %(tenant)s, c.id, r.event_id, r.type, r.item_id, r.attribute, r.value, r.weight, r.occurred_at
FROM raw_events r JOIN customers c ON c.tenant_id = %(tenant)s AND c.external_id = r.customer
ON CONFLICT (tenant_id, event_id) DO NOTHING"""
STAGE_IDS = """CREATE TEMPORARY TABLE IF NOT EXISTS raw_events_ids (
    customer_id bigint, event_id text, type text, item_id text, attribute text, value text,
    weight float8, occurred_at timestamptz) ON COMMIT DELETE ROWS"""
INSERT_IDS = """INSERT INTO events (tenant_id, customer_id, event_id, type, item_id, attribute, value, weight,
    occurred_at)
SELECT %(tenant)s, * FROM raw_events_ids ON CONFLICT (tenant_id, event_id) DO NOTHING"""


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


def batch_bodies(events: list[dict[str, Any]]) -> list[bytes]:
    """The events as JSON bodies of one batch each (encoded before the clock starts, as in bench/sync.py)."""
    return [orjson.dumps({"events": events[start : start + BATCH]}) for start in range(0, len(events), BATCH)]


def post_batch(connection: http.client.HTTPConnection, key: str, body: bytes, count: int) -> float:
    """Seconds to POST one batch body on a kept-alive connection; all its `count` events must be new."""
    started = time.perf_counter()
    result = post_json(connection, "/v1/events", body, key)
    assert result["accepted"] == count, result
    return time.perf_counter() - started


def copy_batch(
    connection: psycopg.Connection[Any],
    tenant_id: int,
    ids: dict[str, int] | None,
    events: list[dict[str, Any]],
) -> float:
    """Seconds to COPY one batch into staging and insert it into events, in one transaction."""
    # Without `ids` the rows name their customers as the API's do, and the insert finds them by key;
    # with `ids` the client already knows every customer's internal id (a path the API cannot take).
    started = time.perf_counter()
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute(STAGE if ids is None else STAGE_IDS)
        with cursor.copy(
            "COPY raw_events FROM STDIN" if ids is None else "COPY raw_events_ids FROM STDIN"
        ) as copy:
            for e in events:
                customer = e["customer_id"] if ids is None else ids[e["customer_id"]]
                copy.write_row(
                    (
                        customer,
                        e["event_id"],
                        e["type"],
                        e["item_id"],
                        e["attribute"],
                        e["value"],
                        e["weight"],
                        e["occurred_at"],
                    )
                )
        cursor.execute(INSERT if ids is None else INSERT_IDS, {"tenant": tenant_id})
        assert cursor.rowcount == len(events), cursor.rowcount
    return time.perf_counter() - started


def raw_customers(
    connection: psycopg.Connection[Any], tenant: str, customers: int
) -> tuple[int, dict[str, int]]:
    """The baseline tenant's id, and its customers created up front with their ids."""
    found = connection.execute("SELECT id FROM tenants WHERE name = %s", (tenant,)).fetchone()
    assert found is not None
    tenant_id = int(found[0])
    connection.execute(
        "INSERT INTO customers (tenant_id, external_id, traits, consent_personalization,"
        " consent_profiling, created_at, updated_at) SELECT %s, 'c-' || g, '{}', true, true, now(), now()"
        " FROM generate_series(0, %s) g",
        (tenant_id, customers - 1),
    )
    ids = connection.execute("SELECT external_id, id FROM customers WHERE tenant_id = %s", (tenant_id,))
    mapping = {external_id: int(internal_id) for external_id, internal_id in ids}
    connection.commit()
    return tenant_id, mapping


def main() -> None:
    """Measure both paths batch by batch, interleaved, and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    api_events = make_events(args.events, args.customers, "api")
    bodies = batch_bodies(api_events)
    raw_events = make_events(args.events, args.customers, "raw")
    api = raw = known = 0.0
    with fresh_postgres() as url:
        key = create_tenant_key(url, "bench-api", "storefront")
        create_tenant_key(url, "bench-raw", "storefront")
        create_tenant_key(url, "bench-known-ids", "storefront")
        # Created last and loaded first: every measured tenant sits in the middle of the tenant-led indexes.
        warm = create_tenant_key(url, "bench-warm-up", "storefront")
        dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with running_server(url) as port, psycopg.connect(dsn) as database:
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            post_batch(client, warm, batch_bodies(make_events(BATCH, BATCH, "warm-up"))[0], BATCH)
            tenant_id, _ = raw_customers(database, "bench-raw", args.customers)
            known_tenant, ids = raw_customers(database, "bench-known-ids", args.customers)
            for number, body in enumerate(bodies):
                batch = raw_events[number * BATCH : (number + 1) * BATCH]
                api += post_batch(client, key, body, len(batch))
                raw += copy_batch(database, tenant_id, None, batch)
                known += copy_batch(database, known_tenant, ids, batch)
            replay = post_json(client, "/v1/events", bodies[0], key)
            assert (replay["accepted"], replay["duplicates"]) == (0, BATCH), replay
    api_rate, raw_rate, known_rate = args.events / api, args.events / raw, args.events / known
    print(f"events: {args.events} in batches of {BATCH}, {args.customers} customers")
    print(f"load average before the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"HTTP /v1/events:              {api:7.2f} s  {api_rate:10.0f} events/s")
    print(f"COPY + INSERT ON CONFLICT:    {raw:7.2f} s  {raw_rate:10.0f} rows/s")
    print(f"  the same, ids known:        {known:7.2f} s  {known_rate:10.0f} rows/s")
    print(
        f"RESULT api_events_per_s={api_rate:.0f} copy_rows_per_s={raw_rate:.0f}"
        f" ratio={api_rate / raw_rate:.2f} copy_known_ids_rows_per_s={known_rate:.0f}"
        f" ratio_known_ids={api_rate / known_rate:.2f}"
    )


if __name__ == "__main__":
    main()
