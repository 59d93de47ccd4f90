"""Item attribute values as stored for aggregation: text labels, numeric values binned by the definition."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from service.bulk.checks import fail

CATEGORICAL, MULTI_VALUED, NUMERIC = "categorical", "multi-valued", "numeric"


@dataclass(frozen=True)
class Definition:
    """What the catalog knows about one attribute when it stores values."""

    kind: str
    bins: tuple[float, ...] = ()


def number_text(value: float) -> str:
    """A number as a label: integers without a decimal point."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def bin_label(value: float, bins: tuple[float, ...]) -> str:
    """The half-open interval of sorted edges that holds the value, e.g. "[10,20)"."""
    index = bisect_right(bins, value)
    low = "(-inf" if index == 0 else f"[{number_text(bins[index - 1])}"
    high = "inf)" if index == len(bins) else f"{number_text(bins[index])})"
    return f"{low},{high}"


def _is_number(value: Any) -> bool:
    """A finite JSON number (booleans are not numbers)."""
    return type(value) in (int, float) and math.isfinite(value)


def _text(value: Any, field: str) -> str:
    """One scalar value as a label."""
    if type(value) is bool:
        return "true" if value else "false"
    if _is_number(value):
        return number_text(value)
    if type(value) is not str:
        fail(field, "must be a string, number or boolean")
    text = value.strip()
    if not 0 < len(text) <= 200 or "\x00" in text:
        fail(field, "must be 1 to 200 characters without NUL")
    return text


def labels(value: Any, definition: Definition | None, field: str) -> list[str]:
    """The stored labels of one attribute's value; a value that does not fit the definition is refused."""
    if value is None:
        return []
    kind = definition.kind if definition else None
    if kind == NUMERIC and definition:
        if not _is_number(value):
            fail(field, "must be a number (the attribute is numeric)")
        return [bin_label(value, definition.bins)]
    if type(value) is list:
        if kind == CATEGORICAL:
            fail(field, "must be one value (the attribute is categorical)")
        return sorted({_text(v, f"{field}[{i}]") for i, v in enumerate(value)})
    return [_text(value, field)]
