"""All queries of the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col, select

from service.bulk.lww import MergeCounts, Outcome, outcome
from service.bulk.repository import chunks, lock_for_writing
from service.catalog.models import Attribute, Item, ItemValue
from service.catalog.rows import ItemRow
from service.db import is_postgres, upsert_insert, utcnow

ITEMS: sa.Table = Item.__table__  # type: ignore[attr-defined]
VALUES: sa.Table = ItemValue.__table__  # type: ignore[attr-defined]


def get_attribute(session: Session, tenant_id: int, name: str) -> Attribute | None:
    """One attribute definition."""
    query = select(Attribute).where(Attribute.tenant_id == tenant_id, Attribute.name == name)
    return session.exec(query).first()


def list_attributes(session: Session, tenant_id: int) -> Sequence[Attribute]:
    """The tenant's attribute definitions by name."""
    return session.exec(
        select(Attribute).where(Attribute.tenant_id == tenant_id).order_by(col(Attribute.name))
    ).all()


def save_attribute(session: Session, attribute: Attribute) -> None:
    """Stage an attribute definition."""
    session.add(attribute)
    session.flush()


def get_item(session: Session, tenant_id: int, item_id: str) -> Item | None:
    """One item."""
    return session.exec(select(Item).where(Item.tenant_id == tenant_id, Item.item_id == item_id)).first()


def values_of(session: Session, tenant_id: int, item_id: str) -> list[tuple[str, str]]:
    """An item's stored (attribute, value) labels in order."""
    query = (
        sa.select(VALUES.c.attribute, VALUES.c.value)
        .where(VALUES.c.tenant_id == tenant_id, VALUES.c.item_id == item_id)
        .order_by(VALUES.c.attribute, VALUES.c.value)
    )
    return [(a, v) for a, v in session.execute(query)]


def active_item_ids(session: Session, tenant_id: int) -> list[str]:
    """The ids of the tenant's items that may be recommended."""
    query = sa.select(ITEMS.c.item_id).where(ITEMS.c.tenant_id == tenant_id, ITEMS.c.active.is_(True))
    return list(session.execute(query.order_by(ITEMS.c.item_id)).scalars())


def items_with(session: Session, tenant_id: int, attribute: str) -> list[tuple[str, Any]]:
    """(item_id, value) of the tenant's items that carry an attribute."""
    value = ITEMS.c.attributes[attribute]
    if is_postgres(session):
        has = sa.type_coerce(ITEMS.c.attributes, JSONB).has_key(attribute)
    else:
        has = sa.func.json_type(ITEMS.c.attributes, f'$."{attribute}"').is_not(None)
    query = sa.select(ITEMS.c.item_id, value).where(ITEMS.c.tenant_id == tenant_id, has)
    return [(item_id, found) for item_id, found in session.execute(query)]


def replace_attribute_values(
    session: Session, tenant_id: int, attribute: str, values: list[tuple[str, str]]
) -> None:
    """Replace every stored label of one attribute with (item_id, value) pairs."""
    session.execute(sa.delete(VALUES).where(VALUES.c.tenant_id == tenant_id, VALUES.c.attribute == attribute))
    if values:
        rows = [{"tenant_id": tenant_id, "item_id": i, "attribute": attribute, "value": v} for i, v in values]
        session.execute(sa.insert(VALUES), rows)


class ItemBuffer:
    """Item rows kept until the merge, then written with a few executemany statements."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.rows: dict[int, ItemRow] = {}

    def add(self, line: int, row: ItemRow) -> None:
        """Stage one row."""
        self.rows[line] = row

    def merge(self, losers: Sequence[int]) -> MergeCounts:
        """Merge every staged row except the losers."""
        for line in losers:
            del self.rows[line]
        return merge_items(self.session, self.tenant_id, list(self.rows.values()))


def _stored_items(session: Session, tenant_id: int, item_ids: Sequence[str]) -> dict[str, Any]:
    """The stored rows of these items, locked until the transaction ends."""
    found: dict[str, Any] = {}
    for chunk in chunks(item_ids):
        query = sa.select(ITEMS).where(ITEMS.c.tenant_id == tenant_id, ITEMS.c.item_id.in_(chunk))
        found.update({row.item_id: row for row in session.execute(query.with_for_update())})
    return found


def _outcome(row: ItemRow, stored: Any) -> Outcome:
    """What writing this row would do to the stored item."""
    same = (
        stored is not None
        and stored.attributes == row.attributes
        and stored.active == row.active
        and (row.source_updated_at is None or row.source_updated_at == stored.source_updated_at)
    )
    return outcome(stored is not None, stored and stored.source_updated_at, row.source_updated_at, same)


def merge_items(session: Session, tenant_id: int, rows: list[ItemRow]) -> MergeCounts:
    """Last-writer-wins merge of rows with distinct item ids; values replaced for the written ones."""
    lock_for_writing(session)
    stored = _stored_items(session, tenant_id, [r.item_id for r in rows])
    outcomes = [_outcome(r, stored.get(r.item_id)) for r in rows]
    changed = [r for r, o in zip(rows, outcomes, strict=True) if o in (Outcome.created, Outcome.updated)]
    written = _write_items(session, tenant_id, changed) if changed else set()
    final = [
        Outcome.stale if o in (Outcome.created, Outcome.updated) and r.item_id not in written else o
        for r, o in zip(rows, outcomes, strict=True)
    ]
    return MergeCounts.of(final)


def _write_items(session: Session, tenant_id: int, rows: list[ItemRow]) -> set[str]:
    """Upsert items unless a newer version arrived meanwhile, replace their values; the ids written."""
    now = utcnow()
    insert = upsert_insert(session, ITEMS)
    newer_or_unordered = sa.or_(
        ITEMS.c.source_updated_at.is_(None),
        insert.excluded.source_updated_at.is_(None),
        insert.excluded.source_updated_at >= ITEMS.c.source_updated_at,
    )
    statement = insert.on_conflict_do_update(
        index_elements=["tenant_id", "item_id"],
        set_={
            "attributes": insert.excluded.attributes,
            "active": insert.excluded.active,
            "source_updated_at": sa.func.coalesce(
                insert.excluded.source_updated_at, ITEMS.c.source_updated_at
            ),
            "updated_at": insert.excluded.updated_at,
        },
        where=newer_or_unordered,
    ).returning(ITEMS.c.item_id)
    params = [
        {
            "tenant_id": tenant_id,
            "item_id": r.item_id,
            "attributes": r.attributes,
            "active": r.active,
            "source_updated_at": r.source_updated_at,
            "updated_at": now,
        }
        for r in rows
    ]
    written = set(session.execute(statement, params).scalars())
    ids = sorted(written)
    for chunk in chunks(ids):
        session.execute(sa.delete(VALUES).where(VALUES.c.tenant_id == tenant_id, VALUES.c.item_id.in_(chunk)))
    values = [
        {"tenant_id": tenant_id, "item_id": r.item_id, "attribute": a, "value": v}
        for r in rows
        if r.item_id in written
        for a, v in r.values
    ]
    if values:
        session.execute(sa.insert(VALUES), values)
    return written
