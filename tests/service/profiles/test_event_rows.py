"""The hand-checked plain shape of an event agrees with EventIn on every input it takes."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from service.profiles.event_rows import check_events, copy_lines, plain_row
from service.profiles.schemas import EventIn

BASE = {
    "event_id": "e-1",
    "customer_id": "c-1",
    "type": "purchase",
    "item_id": "i-1",
    "occurred_at": "2026-01-01T00:00:00Z",
}
VARIANTS: dict[str, list[Any]] = {
    "event_id": ["e-1", " e-1", "e\t1", "é-1", "", "x" * 200, "x" * 201, 7, None, "a\\b", "e\x001"],
    "customer_id": ["c-1", "c-1 ", "c\n1", "ü", "\ud800", "", 1.5],
    "type": ["purchase", "buy now", "t" * 40, "t" * 41, "", 3, "view\n"],
    "item_id": ["i-1", None, "", " i", "i\\1", 12],
    "weight": [1, 0, 0.5, 1_000_000, 1_000_001, -1, True, "2", float("nan"), float("inf"), None],
    "occurred_at": [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.123456+05:30",
        "2026-01-01T00:00:00.1234567Z",
        "2026-02-30T00:00:00Z",
        "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00+20:55",
        "1900-01-01T00:00:00+01:00",
        "1900-01-01T00:00:00-01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59+01:00",
        "2026-01-01T24:00:00Z",
        1_700_000_000,
        None,
    ],
}
CHOICES = [
    {},
    {"attribute": "genre", "value": "crime"},
    {"attribute": "genre"},
    {"value": "crime"},
    {"attribute": "bad name", "value": "crime"},
    {"attribute": "genre", "value": " crime"},
    {"attribute": None, "value": None},
    {"colour": "red"},
]
_model = TypeAdapter(EventIn)


def _events() -> list[dict[str, Any]]:
    """Every single-field variant of a plain event, with each kind of choice."""
    events = []
    for (field, values), choice in itertools.product(VARIANTS.items(), CHOICES):
        for value in values:
            event = {**BASE, **choice, field: value}
            if value is None and field in ("weight", "event_id"):
                del event[field]
            events.append(event)
    return events


@pytest.mark.parametrize("event", _events())
def test_plain_rows_are_what_the_model_reads(event: dict[str, Any]) -> None:
    row = plain_row(event)
    try:
        model = _model.validate_python(event)
    except ValidationError:
        assert row is None
        return
    if row is None:
        return
    customer_id, event_id, kind, item_id, attribute, value, weight, occurred_at = row
    assert (customer_id, event_id, kind, item_id, attribute, value, weight) == (
        model.customer_id,
        model.event_id,
        model.type,
        model.item_id,
        model.attribute,
        model.value,
        model.weight,
    )
    assert datetime.fromisoformat(occurred_at) == model.occurred_at


def test_plain_events_take_the_hand_checked_path() -> None:
    assert plain_row(BASE) == ("c-1", "e-1", "purchase", "i-1", None, None, 1.0, "2026-01-01T00:00:00Z")
    assert plain_row({**BASE, "weight": 2, "attribute": "genre", "value": "crime"}) is not None


def test_a_batch_keeps_the_first_of_each_event_id_and_explains_the_rest() -> None:
    checked = check_events([BASE, {**BASE, "weight": "heavy"}, {**BASE, "item_id": " i-2 "}, "nope"])
    assert [r[3] for r in checked.rows] == ["i-1"]
    assert checked.repeats == 1
    assert [(r.index, r.reason.split(":")[0]) for r in checked.rejected] == [(1, "weight"), (3, "event")]


def test_copy_lines_escape_what_copy_reads_specially() -> None:
    checked = check_events([{**BASE, "event_id": "a\\b", "item_id": "x\ty", "customer_id": "c\nd"}])
    assert copy_lines(checked.rows) == (
        "c\\nd\ta\\\\b\tpurchase\tx\\ty\t\\N\t\\N\t1.0\t2026-01-01T00:00:00Z\n"
    )
