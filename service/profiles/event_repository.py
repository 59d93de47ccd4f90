"""Storing a batch of events: on PostgreSQL a COPY into staging and one statement, on SQLite a few."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from service.bulk.driver import driver_connection
from service.db import is_postgres
from service.profiles import repository
from service.profiles.event_rows import EventRow, copy_lines, row_values

# The staging table lives as long as the pooled connection; each commit empties it, and what an earlier
# batch of the same transaction left is deleted. Its notice ("already exists") is not sent.
STAGE = """SET LOCAL client_min_messages = warning;
CREATE TEMPORARY TABLE IF NOT EXISTS ingest_event_rows (
    customer text NOT NULL, event_id text NOT NULL, type text NOT NULL, item_id text, attribute text,
    value text, weight float8 NOT NULL, occurred_at timestamptz NOT NULL
) ON COMMIT DELETE ROWS;
DELETE FROM ingest_event_rows"""
COPY = "COPY ingest_event_rows FROM STDIN"
# Each customer of the batch is looked up by its key (one index probe, however many customers the
# tenant has); those seen for the first time are created (in key order, so concurrent batches lock them
# in the same order) with the tenant's default consent, and their feed columns' defaults place them in
# the change feed. Events whose event_id the tenant already has are skipped. A customer a concurrent
# batch created after this statement's snapshot is neither found nor created: it is counted as missing,
# and the statement runs again (a new snapshot) for the events it left.
INSERT = """
WITH wanted AS (
    SELECT w.external_id, (
        SELECT c.id FROM customers c WHERE c.tenant_id = %(tenant_id)s AND c.external_id = w.external_id
    ) AS id
    FROM (SELECT DISTINCT customer AS external_id FROM ingest_event_rows) w
), created AS (
    INSERT INTO customers (tenant_id, external_id, traits, consent_personalization, consent_profiling,
        created_at, updated_at)
    SELECT %(tenant_id)s, w.external_id, '{}'::jsonb, t.default_personalization_consent,
        t.default_profiling_consent, now(), now()
    FROM wanted w JOIN tenants t ON t.id = %(tenant_id)s
    WHERE w.id IS NULL
    ORDER BY w.external_id COLLATE "C"
    ON CONFLICT (tenant_id, external_id) DO NOTHING
    RETURNING external_id, id
), ids AS (
    SELECT external_id, id FROM wanted WHERE id IS NOT NULL
    UNION ALL SELECT external_id, id FROM created
), inserted AS (
    INSERT INTO events (tenant_id, customer_id, event_id, type, item_id, attribute, value, weight,
        occurred_at)
    SELECT %(tenant_id)s, i.id, s.event_id, s.type, s.item_id, s.attribute, s.value, s.weight, s.occurred_at
    FROM ingest_event_rows s JOIN ids i ON i.external_id = s.customer
    ON CONFLICT (tenant_id, event_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM wanted) - (SELECT count(*) FROM ids)
"""

RETRIES = 3


def store_events(
    session: Session, tenant_id: int, rows: list[EventRow], defaults: Callable[[], dict[str, bool]]
) -> tuple[int, int]:
    """Store rows with distinct event_ids and their unseen customers: (events stored, customers missing)."""
    # Customers are missing only when the tenant is gone or concurrent batches kept creating them; their
    # events are not stored. `defaults` gives a new customer's consent on SQLite (PostgreSQL reads it).
    if not rows:
        return 0, 0
    if is_postgres(session):
        return _copy_events(session, tenant_id, rows)
    ids = repository.ensure_customers(session, tenant_id, (r[0] for r in rows), defaults())
    values = [row_values(tenant_id, ids[r[0]], r) for r in rows]
    return repository.insert_new_events(session, tenant_id, values), 0


def _copy_events(session: Session, tenant_id: int, rows: list[EventRow]) -> tuple[int, int]:
    """COPY the rows into staging and store them with one statement (again after a lost race)."""
    params = {"tenant_id": tenant_id}
    with driver_connection(session).cursor() as cursor:
        cursor.execute(STAGE)
        with cursor.copy(COPY) as copy:
            copy.write(copy_lines(rows))
        stored, missing = cursor.execute(INSERT, params).fetchone()
        for _ in range(RETRIES):
            if not missing:
                break
            more, missing = cursor.execute(INSERT, params).fetchone()
            stored += more
    return int(stored), int(missing)
