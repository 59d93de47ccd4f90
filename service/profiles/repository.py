"""All queries of the profile store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.db import current_txid, upsert_insert, utcnow
from service.profiles.models import Customer, CustomerChange, Event, Preference


def get_customer(session: Session, tenant_id: int, external_id: str) -> Customer | None:
    """The tenant's customer with this external id."""
    query = select(Customer).where(Customer.tenant_id == tenant_id, Customer.external_id == external_id)
    return session.exec(query).first()


def list_customers(session: Session, tenant_id: int, after_id: int, limit: int) -> Sequence[Customer]:
    """A page of the tenant's customers in id order."""
    query = (
        select(Customer)
        .where(Customer.tenant_id == tenant_id, col(Customer.id) > after_id)
        .order_by(col(Customer.id))
        .limit(limit)
    )
    return session.exec(query).all()


def add_customer(session: Session, customer: Customer) -> Customer:
    """Stage a customer and assign its id."""
    session.add(customer)
    session.flush()
    return customer


def preferences_of(session: Session, customer_ids: Sequence[int]) -> Sequence[Preference]:
    """The preferences of some customers, in a stable order."""
    if not customer_ids:
        return []
    query = (
        select(Preference)
        .where(col(Preference.customer_id).in_(customer_ids))
        .order_by(col(Preference.customer_id), col(Preference.attribute), col(Preference.value))
    )
    return session.exec(query).all()


def replace_preferences(session: Session, customer_ids: Sequence[int], rows: list[dict[str, Any]]) -> None:
    """Delete the customers' preferences and insert the given rows instead."""
    if customer_ids:
        session.execute(sa.delete(Preference).where(col(Preference.customer_id).in_(customer_ids)))
    if rows:
        session.execute(sa.insert(Preference), rows)


def ensure_customers(
    session: Session, tenant_id: int, external_ids: Iterable[str], defaults: dict[str, Any]
) -> tuple[dict[str, int], list[str]]:
    """Ids of the given customers, creating the missing ones with the defaults; also the created."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}, []
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id,
            "external_id": e,
            "traits": {},
            "created_at": now,
            "updated_at": now,
            **defaults,
        }
        for e in wanted
    ]
    insert = upsert_insert(session, Customer).on_conflict_do_nothing(
        index_elements=["tenant_id", "external_id"]
    )
    created = [r.external_id for r in session.execute(insert.returning(col(Customer.external_id)), rows)]
    return customer_ids(session, tenant_id, wanted), created


def customer_ids(session: Session, tenant_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    """Internal ids of the tenant's customers with these external ids."""
    ids: dict[str, int] = {}
    for start in range(0, len(external_ids), 5_000):
        chunk = external_ids[start : start + 5_000]
        query = sa.select(Customer.__table__.c.external_id, Customer.__table__.c.id).where(  # type: ignore[attr-defined]
            Customer.__table__.c.tenant_id == tenant_id,  # type: ignore[attr-defined]
            Customer.__table__.c.external_id.in_(chunk),  # type: ignore[attr-defined]
        )
        ids.update({e: i for e, i in session.execute(query)})
    return ids


def insert_new_events(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert events whose event_id the tenant has not stored yet; the number inserted."""
    if not rows:
        return 0
    insert = upsert_insert(session, Event).on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
    return len(session.execute(insert.returning(col(Event.id)), rows).all())


def events_of(session: Session, customer_id: int) -> Sequence[Event]:
    """All events of one customer in time order."""
    query = (
        select(Event).where(Event.customer_id == customer_id).order_by(col(Event.occurred_at), col(Event.id))
    )
    return session.exec(query).all()


def count_rows(session: Session, model: Any, customer_id: int) -> int:
    """How many rows of a customer-owned table belong to this customer."""
    query = sa.select(sa.func.count()).select_from(model).where(model.customer_id == customer_id)
    return int(session.execute(query).scalar_one())


def delete_customer(session: Session, customer: Customer) -> None:
    """Delete a customer; owned rows go with it by ON DELETE CASCADE."""
    session.execute(sa.delete(Event).where(col(Event.customer_id) == customer.id))
    session.execute(sa.delete(Preference).where(col(Preference.customer_id) == customer.id))
    session.delete(customer)
    session.flush()


def record_changes(
    session: Session,
    tenant_id: int,
    external_ids: Sequence[str],
    *,
    deleted: bool = False,
    at: datetime | None = None,
) -> None:
    """Move these customers to the head of the change feed (one row a customer)."""
    if not external_ids:
        return
    table = CustomerChange.__table__  # type: ignore[attr-defined]
    when = at or utcnow()
    insert = sa.insert(table).values(txid=current_txid(session))
    for start in range(0, len(external_ids), 5_000):
        chunk = list(external_ids[start : start + 5_000])
        session.execute(
            sa.delete(table).where(table.c.tenant_id == tenant_id, table.c.external_id.in_(chunk))
        )
        rows = [
            {"tenant_id": tenant_id, "external_id": e, "deleted": deleted, "changed_at": when} for e in chunk
        ]
        session.execute(insert, rows)
