"""Events of a batch as plain row tuples: the plain shape checked by hand, any other judged by EventIn."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError

from service.bulk.copy_format import NULL, copy_optional, copy_text
from service.profiles.schemas import EventIn, RejectedEvent
from service.schemas import text_problem, timestamp_problem

# customer_id, event_id, type, item_id, attribute, value, weight, and occurred_at as text that
# PostgreSQL and datetime.fromisoformat read as the same instant.
EventRow = tuple[str, str, str, str | None, str | None, str | None, float, str]

FIELDS = frozenset(EventIn.model_fields)
_TYPE = re.compile(r"[A-Za-z0-9_.:-]{1,40}").fullmatch
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}").fullmatch
# An external id EventIn keeps as it is: 1 to 200 characters, no NUL, nothing for it to strip.
_ID = re.compile(r"[^\s\x00](?:[^\x00]{0,198}[^\s\x00])?").fullmatch
# RFC 3339 timestamps with offsets PostgreSQL takes (up to 15:59) and at most microseconds.
_RFC3339 = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-[0-3]\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-5]):[0-5]\d)",
    re.ASCII,
).fullmatch
_event_adapter = TypeAdapter(EventIn)


@dataclass(slots=True)
class CheckedEvents:
    """A batch's storable rows (first of each event_id), its rejected events and its repeated ids."""

    rows: list[EventRow] = field(default_factory=list)
    rejected: list[RejectedEvent] = field(default_factory=list)
    repeats: int = 0


def _plain_id(value: Any) -> bool:
    """Whether a value is an external id EventIn keeps as it is."""
    return type(value) is str and _ID(value) is not None and (value.isascii() or text_problem(value) is None)


def _plain_time(value: str) -> bool:
    """Whether an RFC 3339 timestamp is a real date and time within storage's range."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return 1900 < parsed.year < 9999 or timestamp_problem(parsed) is None


def plain_row(raw: Any) -> EventRow | None:
    """The row of an event in the plain shape clients send, or None when EventIn must judge it."""
    if type(raw) is not dict or not raw.keys() <= FIELDS:
        return None
    get = raw.get
    customer_id, event_id, kind, at = get("customer_id"), get("event_id"), get("type"), get("occurred_at")
    if not (
        type(kind) is str
        and _TYPE(kind)
        and type(at) is str
        and _RFC3339(at)
        and _plain_id(customer_id)
        and _plain_id(event_id)
        and _plain_time(at)
    ):
        return None
    item_id, attribute, value = get("item_id"), get("attribute"), get("value")
    if item_id is not None and not _plain_id(item_id):
        return None
    if (attribute is not None or value is not None) and not (
        type(attribute) is str and _NAME(attribute) and _plain_id(value)
    ):
        return None
    weight = get("weight", 1.0)
    if (type(weight) is not float and type(weight) is not int) or not 0 <= weight <= 1_000_000:
        return None
    return cast(EventRow, (customer_id, event_id, kind, item_id, attribute, value, float(weight), at))


def _model_row(event: EventIn) -> EventRow:
    """The row of an event EventIn accepted."""
    return (
        event.customer_id,
        event.event_id,
        event.type,
        event.item_id,
        event.attribute,
        event.value,
        event.weight,
        event.occurred_at.astimezone(UTC).isoformat(),
    )


def _event_id_of(item: Any) -> str | None:
    """The event_id of a raw event, when it has a usable one."""
    value = item.get("event_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and text_problem(value) is None else None


def _reason(exc: ValidationError) -> str:
    """A validation error as one line naming the fields."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "event"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def check_events(raw: list[Any]) -> CheckedEvents:
    """Check each event on its own; repeated event_ids inside the batch count as repeats."""
    checked = CheckedEvents()
    rows, seen = checked.rows, set()
    for index, item in enumerate(raw):
        row = plain_row(item)
        if row is None:
            try:
                row = _model_row(_event_adapter.validate_python(item))
            except ValidationError as exc:
                checked.rejected.append(
                    RejectedEvent(index=index, event_id=_event_id_of(item), reason=_reason(exc))
                )
                continue
        if row[1] in seen:
            checked.repeats += 1
            continue
        seen.add(row[1])
        rows.append(row)
    return checked


def copy_lines(rows: list[EventRow]) -> str:
    """The rows in PostgreSQL's COPY text format (type and attribute need no escaping: their pattern)."""
    return "".join(
        f"{copy_text(c)}\t{copy_text(e)}\t{k}\t{copy_optional(i)}\t{a or NULL}\t{copy_optional(v)}"
        f"\t{w!r}\t{t}\n"
        for c, e, k, i, a, v, w, t in rows
    )


def row_values(tenant_id: int, customer_id: int, row: EventRow) -> dict[str, Any]:
    """A row as the column values of an events insert."""
    return {
        "tenant_id": tenant_id,
        "customer_id": customer_id,
        "event_id": row[1],
        "type": row[2],
        "item_id": row[3],
        "attribute": row[4],
        "value": row[5],
        "weight": row[6],
        "occurred_at": datetime.fromisoformat(row[7]),
    }
