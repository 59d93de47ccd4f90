"""Results of a big experiment on PostgreSQL: per-arm sums in SQL for 1,000,000 exposed customers.

Fills a fresh database with customers, their first exposures (half held out) and purchase events
before and after exposure, then times `GET .../results`' work (the SQL aggregation and the analysis)
against a baseline measured in the same run, interleaved: one plain scan summing the tenant's events.
Also times `GET .../results/history` (30 daily points of the same metric) against the results.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.harness import create_tenant_key, fresh_postgres
from service.config import Settings
from service.db import create_db_engine, session_scope, utcnow
from service.experiments.history import history
from service.experiments.models import Experiment
from service.experiments.results import results

# The fill is the bench's own throwaway database: its change-notification triggers (and foreign-key
# checks, also triggers) are off for the fill's transaction, as in a replica restoring a dump.
_FILL = [
    "SET LOCAL session_replication_role = replica",
    "INSERT INTO customers (tenant_id, external_id, traits, consent_personalization, consent_profiling,"
    " created_at, updated_at) SELECT 1, 'c-' || g, '{}', true, true, now(), now()"
    " FROM generate_series(1, :customers) g",
    "INSERT INTO experiment_exposures (experiment_id, customer_id, tenant_id, arm, exposed_at)"
    " SELECT :experiment, id, 1, CASE WHEN id % 2 = 0 THEN 'holdout' ELSE 'treatment' END,"
    " now() - interval '7 days' FROM customers WHERE tenant_id = 1",
]
# The events' own indexes (not those of constraints) are built after the load, as a restore does.
_EVENT_INDEXES = (
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname NOT IN"
    " (SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass)"
)
_COPY_EVENTS = "COPY events (tenant_id, customer_id, event_id, type, weight, occurred_at) FROM STDIN"
_CUSTOMER_IDS = "SELECT id FROM customers WHERE tenant_id = 1 ORDER BY id"
_CHUNK = 200_000


def copy_events(connection: sa.Connection, per_customer: int) -> None:
    """Stream the purchases with COPY: in time order, customers interleaved, as a live feed writes them."""
    customer_ids = [int(c) for c in connection.execute(sa.text(_CUSTOMER_IDS)).scalars()]
    now = datetime.now(UTC)
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(_COPY_EVENTS) as copy:
        for k in range(1, per_customer + 1):
            when = (now - timedelta(days=20) + timedelta(days=3 * k)).isoformat()
            for start in range(0, len(customer_ids), _CHUNK):
                chunk = customer_ids[start : start + _CHUNK]
                copy.write("".join(f"1\t{c}\te-{c}-{k}\tpurchase\t{10 + c % 7 + k}\t{when}\n" for c in chunk))


def fill(engine: sa.Engine, customers: int, per_customer: int, experiment_id: int) -> None:
    """Customers, their exposures and purchases; the events' indexes rebuilt after; then VACUUM ANALYZE."""
    params = {"customers": customers, "experiment": experiment_id}
    with engine.begin() as connection:
        for statement in _FILL:
            connection.execute(sa.text(statement), params)
        indexes = connection.execute(sa.text(_EVENT_INDEXES)).all()
        for name, _definition in indexes:
            connection.execute(sa.text(f'DROP INDEX "{name}"'))
        copy_events(connection, per_customer)
        connection.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _name, definition in indexes:
            connection.execute(sa.text(definition))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))  # what autovacuum does after a bulk load


def main() -> None:
    """Fill, time the baseline scan and the results, print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events-per-customer", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="Timings of scan and results, interleaved.")
    options = parser.parse_args()
    with fresh_postgres() as url:
        create_tenant_key(url, "bench", "marketer")
        engine = create_db_engine(Settings(database_url=url))
        with session_scope(engine) as session:
            experiment = Experiment(
                tenant_id=1,
                name="bench",
                scope_kind="recommendations",
                scope_key="recommendations",
                holdout_share=0.5,
                assignment="external",
                salt="bench",
                goal={"event_type": "purchase", "measure": "sum", "window_days": 14},
                started_at=utcnow() - timedelta(days=8),  # a day before the exposures: 9 days of history
            )
            session.add(experiment)
            session.flush()
            experiment_id = experiment.id or 0
        started = time.perf_counter()
        fill(engine, options.customers, options.events_per_customer, experiment_id)
        print(f"filled in {time.perf_counter() - started:.1f} s")
        scans, tooks, histories = [], [], []
        for _ in range(options.repeats):
            with engine.connect() as connection:
                started = time.perf_counter()
                connection.execute(sa.text("SELECT SUM(weight) FROM events WHERE tenant_id = 1")).scalar_one()
                scans.append(time.perf_counter() - started)
            with session_scope(engine) as session:
                started = time.perf_counter()
                found = results(session, None, 1, experiment_id)
                tooks.append(time.perf_counter() - started)
            with session_scope(engine) as session:
                started = time.perf_counter()
                days = history(session, 1, experiment_id, 30)["days"]
                histories.append(time.perf_counter() - started)
            print(
                f"baseline scan of the events: {scans[-1]:.2f} s; results: {tooks[-1]:.2f} s;"
                f" history of {days} days: {histories[-1]:.2f} s"
            )
        engine.dispose()
    events = options.customers * options.events_per_customer
    print(f"{options.customers:,} exposed customers, {events:,} events; verdict {found['verdict']}")
    took, scan = sorted(tooks)[len(tooks) // 2], sorted(scans)[len(scans) // 2]
    daily = sorted(histories)[len(histories) // 2]
    print(
        f"RESULT results_seconds={took:.2f} scan_seconds={scan:.2f} ratio={took / scan:.2f}"
        f" history_seconds={daily:.2f} history_over_results={daily / took:.2f}"
        f" n={options.customers} (medians of {options.repeats})"
    )


if __name__ == "__main__":
    main()
