"""Rules of CRM sync: bulk customer upserts by last writer wins, and the change feed."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from service.bulk.batch import run_batch
from service.bulk.bodies import Record
from service.bulk.schemas import SyncResult
from service.pagination import decode_cursor, encode_cursor
from service.profiles import repository as profiles
from service.profiles.models import Preference
from service.profiles.service import to_public
from service.sync import repository
from service.sync.rows import customer_row
from service.sync.schemas import Change, ChangePage

FEED_START = (0, 0)


def sync_customers(session: Session, tenant_id: int, records: Iterable[Record], max_rows: int) -> SyncResult:
    """Upsert a batch of customer rows; bad rows are reported, the rest is merged in one transaction."""
    with repository.customer_stage(session, tenant_id) as stage:
        return run_batch(records, customer_row, stage, max_rows)


def changes(session: Session, tenant_id: int, after: str | None, limit: int) -> ChangePage:
    """Customers changed after the cursor, oldest change first; the cursor stays put when nothing is new."""
    txid, change_id = decode_cursor(after, 2, "after") or FEED_START
    rows = repository.changes_after(session, tenant_id, (txid, change_id), limit)
    preferences: dict[int, list[Preference]] = {}
    ids = [customer.id for _, customer in rows if customer is not None and customer.id is not None]
    for preference in profiles.preferences_of(session, ids):
        preferences.setdefault(preference.customer_id, []).append(preference)
    items = [
        Change(
            external_id=change.external_id,
            deleted=change.deleted,
            changed_at=change.changed_at,
            profile=None if customer is None else to_public(customer, preferences.get(customer.id or 0, [])),
        )
        for change, customer in rows
    ]
    if rows:
        last = rows[-1][0]
        next_cursor = encode_cursor(last.txid, last.id or 0)
    else:
        next_cursor = after or encode_cursor(*FEED_START)
    return ChangePage(items=items, next_cursor=next_cursor)
