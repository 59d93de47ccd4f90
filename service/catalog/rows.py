"""Item rows of a catalog sync: fast, strict checks, each failure a reason naming the field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.bulk.checks import MISSING, boolean, fields_of, identifier, json_text, name, timestamp, wrong
from service.catalog.values import Definition, labels

_ITEM_FIELDS = frozenset({"item_id", "attributes", "active", "source_updated_at"})


@dataclass(slots=True)
class ItemRow:
    """A checked item row with its attribute values as stored labels."""

    item_id: str
    attributes: dict[str, Any]
    active: bool
    source_updated_at: datetime | None
    values: list[tuple[str, str]]

    @property
    def key(self) -> str:
        """The id the row is merged on."""
        return self.item_id


def item_checker(definitions: Mapping[str, Definition]) -> Callable[[Any], ItemRow]:
    """A check of item rows against the tenant's attribute definitions."""

    def check(raw: Any) -> ItemRow:
        raw = fields_of(raw, _ITEM_FIELDS, "row")
        item_id = identifier(raw.get("item_id", MISSING), "item_id")
        attributes = raw.get("attributes", MISSING)
        if type(attributes) is not dict:
            wrong(attributes, "attributes", "must be a JSON object")
        values = []
        for attribute, value in attributes.items():
            field = f"attributes.{attribute}"
            name(attribute, field)
            values += [(attribute, label) for label in labels(value, definitions.get(attribute), field)]
        json_text(attributes, "attributes")
        at = raw.get("source_updated_at")
        return ItemRow(
            item_id=item_id,
            attributes=attributes,
            active=boolean(raw.get("active", True), "active"),
            source_updated_at=None if at is None else timestamp(at, "source_updated_at"),
            values=values,
        )

    return check
