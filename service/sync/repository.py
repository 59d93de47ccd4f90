"""Queries of CRM sync: the customer merge (by COPY on PostgreSQL, executemany on SQLite), the feed."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.bulk.lww import MergeCounts, Outcome, outcome
from service.bulk.repository import chunks, lock_for_writing
from service.db import is_postgres, oldest_open_transaction, upsert_insert, utcnow
from service.profiles import repository as profiles
from service.profiles.models import Customer, CustomerChange, Preference
from service.sync.copy_repository import CustomerCopy
from service.sync.rows import CustomerRow
from service.sync.rows import Preference as PreferenceRow

CUSTOMERS: sa.Table = Customer.__table__  # type: ignore[attr-defined]


class CustomerBuffer:
    """Customer rows kept until the merge, then written with a few executemany statements."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.rows: dict[int, CustomerRow] = {}

    def add(self, line: int, row: CustomerRow) -> None:
        """Stage one row."""
        self.rows[line] = row

    def merge(self, losers: Sequence[int]) -> MergeCounts:
        """Merge every staged row except the losers."""
        for line in losers:
            del self.rows[line]
        return merge_customers(self.session, self.tenant_id, list(self.rows.values()))


def customer_stage(session: Session, tenant_id: int) -> AbstractContextManager[CustomerCopy | CustomerBuffer]:
    """Where a batch of customer rows waits: a COPY on PostgreSQL, memory on SQLite."""
    if is_postgres(session):
        return CustomerCopy(session, tenant_id)
    return nullcontext(CustomerBuffer(session, tenant_id))


def stored_customers(session: Session, tenant_id: int, external_ids: Sequence[str]) -> dict[str, Any]:
    """The stored rows of these customers by external id."""
    found: dict[str, Any] = {}
    for chunk in chunks(external_ids):
        query = sa.select(CUSTOMERS).where(
            CUSTOMERS.c.tenant_id == tenant_id, CUSTOMERS.c.external_id.in_(chunk)
        )
        found.update({row.external_id: row for row in session.execute(query)})
    return found


def stored_preferences(session: Session, tenant_id: int, customer_ids: Sequence[int]) -> dict[int, set[Any]]:
    """The preferences of these customers as sets of (attribute, value, weight, source)."""
    found: dict[int, set[Any]] = {}
    for chunk in chunks(customer_ids):
        query = sa.select(
            col(Preference.customer_id),
            col(Preference.attribute),
            col(Preference.value),
            col(Preference.weight),
            col(Preference.source),
        ).where(col(Preference.tenant_id) == tenant_id, col(Preference.customer_id).in_(chunk))
        for customer_id, *preference in session.execute(query):
            found.setdefault(customer_id, set()).add(tuple(preference))
    return found


def _outcome(row: CustomerRow, stored: Any, preferences: dict[int, set[PreferenceRow]]) -> Outcome:
    """What writing this row would do to the stored customer."""
    same = (
        stored is not None
        and stored.source_updated_at == row.source_updated_at
        and stored.traits == row.traits
        and stored.consent_personalization == row.consent_personalization
        and stored.consent_profiling == row.consent_profiling
        and (row.preferences is None or preferences.get(stored.id, set()) == set(row.preferences))
    )
    return outcome(stored is not None, stored and stored.source_updated_at, row.source_updated_at, same)


def merge_customers(session: Session, tenant_id: int, rows: list[CustomerRow]) -> MergeCounts:
    """Last-writer-wins merge of rows with distinct external ids, compared in Python (SQLite path)."""
    lock_for_writing(session)
    stored = stored_customers(session, tenant_id, [r.external_id for r in rows])
    with_preferences = [
        stored[r.external_id].id for r in rows if r.preferences is not None and r.external_id in stored
    ]
    preferences = stored_preferences(session, tenant_id, with_preferences)
    outcomes = [_outcome(r, stored.get(r.external_id), preferences) for r in rows]
    changed = [r for r, o in zip(rows, outcomes, strict=True) if o in (Outcome.created, Outcome.updated)]
    if changed:
        _write_customers(session, tenant_id, changed)
    return MergeCounts.of(outcomes)


def _write_customers(session: Session, tenant_id: int, rows: list[CustomerRow]) -> None:
    """Upsert changed customers, replace the preferences they carry, record the changes."""
    now = utcnow()
    insert = upsert_insert(session, CUSTOMERS)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["tenant_id", "external_id"],
            set_={
                name: insert.excluded[name]
                for name in (
                    "traits",
                    "consent_personalization",
                    "consent_profiling",
                    "source_updated_at",
                    "updated_at",
                )
            },
        ),
        [
            {
                "tenant_id": tenant_id,
                "external_id": r.external_id,
                "traits": r.traits,
                "consent_personalization": r.consent_personalization,
                "consent_profiling": r.consent_profiling,
                "source_updated_at": r.source_updated_at,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ],
    )
    external_ids = [r.external_id for r in rows]
    with_preferences = [r for r in rows if r.preferences is not None]
    if with_preferences:
        ids = profiles.customer_ids(session, tenant_id, [r.external_id for r in with_preferences])
        profiles.replace_preferences(
            session,
            tenant_id,
            [ids[r.external_id] for r in with_preferences],
            [
                {
                    "tenant_id": tenant_id,
                    "customer_id": ids[r.external_id],
                    "attribute": a,
                    "value": v,
                    "weight": w,
                    "source": s,
                    "updated_at": now,
                }
                for r in with_preferences
                for a, v, w, s in r.preferences or ()
            ],
        )
    profiles.record_changes(session, tenant_id, external_ids)


@dataclass(frozen=True)
class FeedEntry:
    """One place in the change feed: a customer's latest change, or an erased customer's tombstone."""

    txid: int
    id: int
    external_id: str
    deleted: bool
    changed_at: datetime


def changes_after(
    session: Session, tenant_id: int, after: tuple[int, int], limit: int
) -> list[tuple[FeedEntry, Customer | None]]:
    """Committed changes after a (txid, id) position with the customers as they are now, in feed order.

    The feed has two sources in one order: live customers by their feed columns, and tombstones of
    customers erased (and not created again). On PostgreSQL both stop at one horizon, the oldest
    transaction still open, read once: a change of a transaction that may still commit is never
    passed over.
    """
    customers, tombstones = Customer, CustomerChange
    live = select(customers).where(
        col(customers.tenant_id) == tenant_id,
        sa.tuple_(col(customers.feed_txid), col(customers.feed_seq)) > sa.tuple_(*after),
    )
    still_there = sa.exists().where(
        col(customers.tenant_id) == tenant_id, col(customers.external_id) == col(tombstones.external_id)
    )
    gone = select(tombstones).where(
        col(tombstones.tenant_id) == tenant_id,
        sa.tuple_(col(tombstones.txid), col(tombstones.id)) > sa.tuple_(*after),
        ~still_there,
    )
    horizon = oldest_open_transaction(session)
    if horizon is not None:
        live = live.where(col(customers.feed_txid) < horizon)
        gone = gone.where(col(tombstones.txid) < horizon)
    live = live.order_by(col(customers.feed_txid), col(customers.feed_seq)).limit(limit)
    gone = gone.order_by(col(tombstones.txid), col(tombstones.id)).limit(limit)
    entries: list[tuple[FeedEntry, Customer | None]] = [
        (FeedEntry(c.feed_txid or 0, c.feed_seq or 0, c.external_id, False, c.updated_at), c)
        for c in session.exec(live)
    ]
    entries += [
        (FeedEntry(t.txid, t.id or 0, t.external_id, True, t.changed_at), None) for t in session.exec(gone)
    ]
    entries.sort(key=lambda entry: (entry[0].txid, entry[0].id))
    return entries[:limit]
