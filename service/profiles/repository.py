"""All queries of the profile store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.bulk.repository import lock_for_writing
from service.db import is_postgres, upsert_insert, utcnow
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


def upsert_customer(
    session: Session,
    tenant_id: int,
    external_id: str,
    values: dict[str, Any],
    consent: dict[str, bool] | None,
    defaults: dict[str, bool],
) -> bool | None:
    """Insert, or replace unless the stored source timestamp is newer (last writer wins); None: stale."""
    now = utcnow()
    table = _CUSTOMERS
    insert = upsert_insert(session, table).values(
        tenant_id=tenant_id,
        external_id=external_id,
        created_at=now,
        updated_at=now,
        **values,
        **(consent or defaults),
    )
    replaced = {
        "traits": insert.excluded.traits,
        "source_updated_at": sa.func.coalesce(insert.excluded.source_updated_at, table.c.source_updated_at),
        "updated_at": insert.excluded.updated_at,
    }
    if consent is not None:
        replaced.update({name: insert.excluded[name] for name in consent})
    newer = sa.or_(
        table.c.source_updated_at.is_(None),
        insert.excluded.source_updated_at.is_(None),
        insert.excluded.source_updated_at >= table.c.source_updated_at,
    )
    statement = insert.on_conflict_do_update(
        index_elements=["tenant_id", "external_id"], set_=replaced, where=newer
    ).returning(table.c.created_at)
    written = session.execute(statement).first()
    return None if written is None else written.created_at == now


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


def replace_preferences(
    session: Session, tenant_id: int, customer_ids: Sequence[int], rows: list[dict[str, Any]]
) -> None:
    """Delete the tenant's customers' preferences and insert the given rows instead."""
    if customer_ids:
        owned = col(Preference.tenant_id) == tenant_id, col(Preference.customer_id).in_(customer_ids)
        session.execute(sa.delete(Preference).where(*owned))
    if rows:
        session.execute(sa.insert(Preference), rows)


def ensure_customers(
    session: Session, tenant_id: int, external_ids: Iterable[str], defaults: dict[str, Any]
) -> dict[str, int]:
    """SQLite: ids of the given customers, creating the missing ones under the write lock.

    (PostgreSQL creates them in the statement that stores the events: event_repository.)
    """
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    lock_for_writing(session)
    existing = customer_ids(session, tenant_id, wanted)
    created = [e for e in wanted if e not in existing]
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
        for e in created
    ]
    if rows:
        insert = upsert_insert(session, _CUSTOMERS).on_conflict_do_nothing(
            index_elements=["tenant_id", "external_id"]
        )
        session.execute(insert, rows)
    record_changes(session, tenant_id, created)
    return customer_ids(session, tenant_id, wanted)


def customer_ids(session: Session, tenant_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    """Internal ids of the tenant's customers with these external ids."""
    table = Customer.__table__  # type: ignore[attr-defined]
    ids: dict[str, int] = {}
    for start in range(0, len(external_ids), 5_000):
        chunk = list(external_ids[start : start + 5_000])
        query = sa.select(table.c.external_id, table.c.id).where(
            table.c.tenant_id == tenant_id, table.c.external_id.in_(chunk)
        )
        ids.update({e: i for e, i in session.execute(query)})
    return ids


def insert_new_events(session: Session, tenant_id: int, rows: list[dict[str, Any]]) -> int:
    """SQLite: insert events whose event_id the tenant has not stored yet; the number inserted."""
    if not rows:
        return 0
    insert = upsert_insert(session, Event.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["tenant_id", "event_id"]
    )
    return int(session.execute(insert, [{"tenant_id": tenant_id, **r} for r in rows]).rowcount)  # type: ignore[attr-defined]


def events_of(session: Session, customer: Customer) -> Sequence[Event]:
    """All events of one customer in time order."""
    owned = col(Event.tenant_id) == customer.tenant_id, col(Event.customer_id) == customer.id
    query = select(Event).where(*owned).order_by(col(Event.occurred_at), col(Event.id))
    return session.exec(query).all()


def count_rows(session: Session, model: Any, customer: Customer) -> int:
    """How many rows of a customer-owned table belong to this customer."""
    owned = model.tenant_id == customer.tenant_id, model.customer_id == customer.id
    query = sa.select(sa.func.count()).select_from(model).where(*owned)
    return int(session.execute(query).scalar_one())


def delete_customer(session: Session, customer: Customer) -> None:
    """Delete a customer; owned rows go with it by ON DELETE CASCADE."""
    for model in (Event, Preference):
        owned = col(model.tenant_id) == customer.tenant_id, col(model.customer_id) == customer.id
        session.execute(sa.delete(model).where(*owned))
    session.delete(customer)
    session.flush()


# PostgreSQL: the customers move to the head of the feed (their columns' defaults: this transaction's
# id and the feed sequence's next number).
_MOVE_TO_HEAD = sa.text("""
UPDATE customers SET feed_txid = DEFAULT, feed_seq = DEFAULT
WHERE tenant_id = :tenant_id AND external_id = ANY(CAST(:ids AS text[]))
""")
# PostgreSQL: each erased customer's tombstone is placed, or moved, at the head of the feed.
_TOMBSTONE = sa.text("""
INSERT INTO customer_changes (tenant_id, external_id, txid, deleted, changed_at)
SELECT :tenant_id, e, pg_current_xact_id()::text::bigint, true, now()
FROM (SELECT DISTINCT e FROM unnest(CAST(:ids AS text[])) AS e) AS ids
ON CONFLICT (tenant_id, external_id) DO UPDATE SET
    id = DEFAULT, txid = excluded.txid, deleted = true, changed_at = excluded.changed_at
""")
_CUSTOMERS = Customer.__table__  # type: ignore[attr-defined]
_TOMBSTONES = CustomerChange.__table__  # type: ignore[attr-defined]


def record_changes(session: Session, tenant_id: int, external_ids: Sequence[str]) -> None:
    """Move these (existing) customers to the head of the change feed."""
    if not external_ids:
        return
    if is_postgres(session):
        session.execute(_MOVE_TO_HEAD, {"tenant_id": tenant_id, "ids": list(external_ids)})
        return
    first = _next_feed_numbers(session, tenant_id)
    statement = (
        sa.update(_CUSTOMERS)
        .where(_CUSTOMERS.c.tenant_id == tenant_id, _CUSTOMERS.c.external_id == sa.bindparam("changed"))
        .values(feed_txid=0, feed_seq=sa.bindparam("position"))
    )
    session.execute(statement, [{"changed": e, "position": first + n} for n, e in enumerate(external_ids)])


def record_erasures(session: Session, tenant_id: int, external_ids: Sequence[str]) -> None:
    """Leave a tombstone at the head of the change feed for each erased customer."""
    if not external_ids:
        return
    if is_postgres(session):
        session.execute(_TOMBSTONE, {"tenant_id": tenant_id, "ids": list(external_ids)})
        return
    session.execute(
        sa.delete(_TOMBSTONES).where(
            _TOMBSTONES.c.tenant_id == tenant_id, _TOMBSTONES.c.external_id.in_(list(external_ids))
        )
    )
    first, now = _next_feed_numbers(session, tenant_id), utcnow()
    tombstone = {"tenant_id": tenant_id, "txid": 0, "deleted": True, "changed_at": now}
    rows = [{**tombstone, "id": first + n, "external_id": e} for n, e in enumerate(external_ids)]
    session.execute(sa.insert(_TOMBSTONES), rows)


def _next_feed_numbers(session: Session, tenant_id: int) -> int:
    """SQLite: the first free feed number of a tenant (its transaction already holds the write lock)."""
    customers = sa.select(sa.func.max(_CUSTOMERS.c.feed_seq)).where(
        _CUSTOMERS.c.tenant_id == tenant_id, _CUSTOMERS.c.feed_txid == 0
    )
    tombstones = sa.select(sa.func.max(_TOMBSTONES.c.id))
    return max(session.execute(customers).scalar() or 0, session.execute(tombstones).scalar() or 0) + 1
