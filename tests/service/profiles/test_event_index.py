"""A customer's events are found through an index: serving's read since a transaction, export, erasure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from service.db import utcnow
from service.profiles import repository
from service.profiles.models import Customer, Event
from service.recommendations.reads_repository import _POSTGRES_BATCH, _SQLITE_READ

# Serving reads a range of a customer's transactions; export and erasure read all the customer's rows.
CUSTOMER_INDEX = "ix_events_tenant_customer_txid"
CUSTOMERS, EVENTS_EACH = 300, 20


def fill(db: Any) -> int:
    """A tenant with customers and their events (statistics gathered on PostgreSQL); its id."""
    with db.engine.begin() as connection:
        tenant = connection.execute(
            sa.text(
                "INSERT INTO tenants (name, default_personalization_consent, default_profiling_consent,"
                " created_at) VALUES ('acme', true, true, :now) RETURNING id"
            ).bindparams(sa.bindparam("now", utcnow(), type_=sa.DateTime(timezone=True))),
        ).scalar_one()
        connection.execute(
            sa.insert(Customer),
            [
                {"tenant_id": tenant, "external_id": f"c-{n}", "traits": {}, "consent_personalization": True,
                 "consent_profiling": True, "created_at": utcnow(), "updated_at": utcnow()}
                for n in range(CUSTOMERS)
            ],
        )  # fmt: skip
        ids = connection.execute(sa.text("SELECT id FROM customers")).scalars().all()
        connection.execute(
            sa.insert(Event),
            [
                {"tenant_id": tenant, "customer_id": c, "event_id": f"e-{c}-{n}", "type": "purchase",
                 "item_id": f"i-{n}", "weight": 1.0, "occurred_at": utcnow()}
                for c in ids for n in range(EVENTS_EACH)
            ],
        )  # fmt: skip
        if db.backend == "postgres":
            connection.execute(sa.text("ANALYZE events; ANALYZE customers"))
    return int(tenant)


def plan(db: Any, statement: str, parameters: Any) -> str:
    """The database's plan of a statement with its parameters, as text."""
    prefix = "EXPLAIN " if db.backend == "postgres" else "EXPLAIN QUERY PLAN "
    with db.engine.connect() as connection:
        return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(prefix + statement, parameters))


def statements_of(db: Any, action: Callable[[Session, Customer], object]) -> list[tuple[str, Any]]:
    """The statements (with their parameters) an action on customer c-7 sends; its changes rolled back."""
    sent: list[tuple[str, Any]] = []

    def record(connection: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    with Session(db.engine) as session:
        customer = session.exec(select(Customer).where(Customer.external_id == "c-7")).one()
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            action(session, customer)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
            session.rollback()
    return sent


def test_serving_reads_a_customers_items_since_a_transaction_through_an_index(db: Any) -> None:
    tenant = fill(db)
    if db.backend == "postgres":
        request = {"tenant_ids": [tenant], "external_ids": ["c-7"], "since": [utcnow()], "events_from": [1]}
        statement, parameters = _POSTGRES_BATCH, {**request, "events_snapshots": ["1:1:"]}
    else:
        statement = str(_SQLITE_READ)
        parameters = {"tenant_id": tenant, "external_id": "c-7", "since": "1970-01-01", "events_from_txid": 1}
    assert CUSTOMER_INDEX in plan(db, statement, parameters)


def test_a_customers_events_are_exported_and_erased_through_an_index(db: Any) -> None:
    fill(db)
    exported = statements_of(db, repository.events_of)
    erased = statements_of(db, repository.delete_customer)
    reads = [s for s in exported if "FROM events" in s[0]]
    deletes = [s for s in erased if s[0].startswith("DELETE FROM events")]
    assert len(reads) == 1 and len(deletes) == 1
    for statement, parameters in reads + deletes:
        found = plan(db, statement, parameters)
        assert CUSTOMER_INDEX in found, (statement, found)
