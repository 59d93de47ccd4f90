"""Customer sync: 100,000 customers as NDJSON over HTTP into PostgreSQL vs a raw psycopg COPY + upsert.

Run: .venv/bin/python bench/sync.py [--customers 100000] [--batch 10000]

Creates a throwaway database (dropped at the end), serves the app with uvicorn on a free loopback
port, posts the customers in NDJSON batches to POST /v1/sync/customers, then truncates the tables and
loads the same rows with psycopg COPY into a temporary table and one INSERT ... ON CONFLICT per batch.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import create_tenant_key, fresh_postgres, post_json, running_server

START = datetime(2026, 1, 1, tzinfo=UTC)
SEGMENTS = ("gold", "silver", "bronze", "new")
RAW_STAGE = """CREATE TEMPORARY TABLE raw_rows (
    external_id text, traits jsonb, consent_personalization boolean, consent_profiling boolean,
    source_updated_at timestamptz) ON COMMIT DROP"""
RAW_UPSERT = """
INSERT INTO customers AS c (tenant_id, external_id, traits, consent_personalization, consent_profiling,
    source_updated_at, created_at, updated_at)
SELECT %s, external_id, traits, consent_personalization, consent_profiling, source_updated_at, now(), now()
FROM raw_rows
ON CONFLICT (tenant_id, external_id) DO UPDATE SET traits = excluded.traits,
    consent_personalization = excluded.consent_personalization,
    consent_profiling = excluded.consent_profiling, source_updated_at = excluded.source_updated_at,
    updated_at = excluded.updated_at
WHERE c.source_updated_at < excluded.source_updated_at"""


def make_rows(count: int) -> list[dict[str, Any]]:
    """Customers with about 200 bytes of traits each."""
    return [
        {
            "external_id": f"crm-{n:07d}",
            "traits": {
                "segment": SEGMENTS[n % 4],
                "lifetime_value": round(n * 1.37 % 5_000, 2),
                "city": f"City {n % 977}",
                "email_domain": f"example{n % 13}.com",
                "tags": ["newsletter", "loyalty", f"store-{n % 41}"],
                "signup": f"20{10 + n % 15}-0{1 + n % 9}-1{n % 10}",
                "note": "prefers weekend delivery and paper invoices",
            },
            "consent": {"personalization": n % 5 != 0, "profiling": n % 3 != 0},
            "source_updated_at": (START + timedelta(seconds=n)).isoformat(),
        }
        for n in range(count)
    ]


def ndjson_batches(rows: list[dict[str, Any]], batch: int) -> list[bytes]:
    """The rows as NDJSON bodies of `batch` rows."""
    return [
        b"".join(orjson.dumps(r) + b"\n" for r in rows[start : start + batch])
        for start in range(0, len(rows), batch)
    ]


def through_api(port: int, key: str, bodies: list[bytes], expected: int) -> float:
    """Seconds to post every body on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    created = 0
    started = time.perf_counter()
    for body in bodies:
        created += post_json(connection, "/v1/sync/customers", body, key, "application/x-ndjson")["created"]
    elapsed = time.perf_counter() - started
    assert created == expected, (created, expected)
    return elapsed


def raw_copy(url: str, tenant: str, rows: list[dict[str, Any]], batch: int) -> float:
    """Seconds to COPY the same rows into a temporary table and upsert them, one transaction a batch."""
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        found = connection.execute("SELECT id FROM tenants WHERE name = %s", (tenant,)).fetchone()
        assert found is not None
        connection.commit()
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute(RAW_STAGE)
                with cursor.copy("COPY raw_rows FROM STDIN") as copy:
                    for r in rows[start : start + batch]:
                        consent = r["consent"]
                        copy.write_row(
                            (
                                r["external_id"],
                                orjson.dumps(r["traits"]).decode(),
                                consent["personalization"],
                                consent["profiling"],
                                r["source_updated_at"],
                            )
                        )
                cursor.execute(RAW_UPSERT, (found[0],))
        elapsed = time.perf_counter() - started
        written = connection.execute("SELECT count(*) FROM customers WHERE tenant_id = %s", found).fetchone()
        assert written is not None and written[0] == len(rows), written
    return elapsed


def main() -> None:
    """Run both paths and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    rows = make_rows(args.customers)
    bodies = ndjson_batches(rows, args.batch)
    size = sum(len(orjson.dumps(r["traits"])) for r in rows) / len(rows)
    print(f"{args.customers} customers, {size:.0f} bytes of traits each, batches of {args.batch}")
    with fresh_postgres() as url:
        key = create_tenant_key(url, "bench", "crm")
        warm = create_tenant_key(url, "warm-up", "crm")
        with running_server(url) as port:
            through_api(port, warm, ndjson_batches(make_rows(1_000), 1_000), 1_000)
            api = through_api(port, key, bodies, args.customers)
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as connection:
            connection.execute(sa.text("TRUNCATE customers, customer_changes, preferences CASCADE"))
        engine.dispose()
        create_tenant_key(url, "raw", "crm")
        raw = raw_copy(url, "raw", rows, args.batch)
    api_rate, raw_rate = args.customers / api, args.customers / raw
    print(f"API  POST /v1/sync/customers  {api:6.2f} s  {api_rate:9.0f} rows/s")
    print(f"raw  COPY + ON CONFLICT       {raw:6.2f} s  {raw_rate:9.0f} rows/s")
    print(
        f"RESULT api_rows_per_s={api_rate:.0f} copy_rows_per_s={raw_rate:.0f} ratio={api_rate / raw_rate:.2f}"
    )


if __name__ == "__main__":
    main()
