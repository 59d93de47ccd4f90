"""Rules of the catalog: attribute definitions, item sync and item reads."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from service.bulk.batch import run_batch
from service.bulk.bodies import Record
from service.bulk.checks import RowError
from service.bulk.schemas import SyncResult
from service.catalog import repository
from service.catalog.models import Attribute
from service.catalog.rows import item_checker
from service.catalog.schemas import AttributePublic, AttributePut, ItemPublic
from service.catalog.values import Definition, labels
from service.db import utcnow
from service.errors import NotFound


def definition_of(attribute: Attribute) -> Definition:
    """How values of an attribute are stored."""
    return Definition(kind=attribute.kind, bins=tuple(attribute.bins or ()))


def to_public(attribute: Attribute) -> AttributePublic:
    """The caller's view of an attribute."""
    return AttributePublic.model_validate(attribute, from_attributes=True)


def put_attribute(
    session: Session, tenant_id: int, name: str, body: AttributePut
) -> tuple[AttributePublic, bool]:
    """Create or replace an attribute; True when created. Items' values follow a new kind or bins."""
    attribute = repository.get_attribute(session, tenant_id, name)
    created = attribute is None
    if attribute is None:
        attribute = Attribute(tenant_id=tenant_id, name=name, kind=body.kind.value)
    before = None if created else definition_of(attribute)
    attribute.kind = body.kind.value
    attribute.description = body.description
    attribute.bins = body.bins
    attribute.f, attribute.u, attribute.c = body.f, body.u, body.c
    attribute.slots = body.slots
    attribute.updated_at = utcnow()
    repository.save_attribute(session, attribute)
    if definition_of(attribute) != before:
        restore_values(session, tenant_id, name, definition_of(attribute))
    return to_public(attribute), created


def restore_values(session: Session, tenant_id: int, name: str, definition: Definition) -> None:
    """Derive the stored labels of one attribute again; values that no longer fit wait for the next sync."""
    values: list[tuple[str, str]] = []
    for item_id, value in repository.items_with(session, tenant_id, name):
        try:
            values += [(item_id, label) for label in labels(value, definition, name)]
        except RowError:
            continue
    repository.replace_attribute_values(session, tenant_id, name, values)


def get_attribute(session: Session, tenant_id: int, name: str) -> AttributePublic:
    """One attribute, or a 404."""
    attribute = repository.get_attribute(session, tenant_id, name)
    if attribute is None:
        raise NotFound(f"No attribute {name!r}.")
    return to_public(attribute)


def list_attributes(session: Session, tenant_id: int) -> list[AttributePublic]:
    """Every attribute of the tenant by name."""
    return [to_public(a) for a in repository.list_attributes(session, tenant_id)]


def sync_items(session: Session, tenant_id: int, records: Iterable[Record], max_rows: int) -> SyncResult:
    """Upsert a batch of item rows, values checked against the attribute definitions."""
    definitions = {a.name: definition_of(a) for a in repository.list_attributes(session, tenant_id)}
    stage = repository.ItemBuffer(session, tenant_id)
    return run_batch(records, item_checker(definitions), stage, max_rows)


def get_item(session: Session, tenant_id: int, item_id: str) -> ItemPublic:
    """One item with its stored values, or a 404."""
    item = repository.get_item(session, tenant_id, item_id)
    if item is None:
        raise NotFound(f"No item {item_id!r}.")
    values: dict[str, list[str]] = {}
    for attribute, value in repository.values_of(session, tenant_id, item_id):
        values.setdefault(attribute, []).append(value)
    return ItemPublic(
        item_id=item.item_id,
        attributes=item.attributes,
        active=item.active,
        values=values,
        source_updated_at=item.source_updated_at,
        updated_at=item.updated_at,
    )
