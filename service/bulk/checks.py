"""Fast, strict checks of one parsed JSON row of a bulk body, each failure a reason naming the field."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, NoReturn

import orjson

from service.schemas import MAX_JSON_DEPTH, json_problem, text_problem, timestamp_problem

_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
MISSING: Any = object()


class RowError(ValueError):
    """A row that cannot be stored; the message names the field."""


def fail(field: str, message: str) -> NoReturn:
    """Reject the row."""
    raise RowError(f"{field}: {message}")


def wrong(value: Any, field: str, message: str) -> NoReturn:
    """Reject the row for a missing field or a bad value."""
    fail(field, "field required" if value is MISSING else message)


def fields_of(raw: Any, allowed: frozenset[str], where: str) -> dict[str, Any]:
    """A JSON object with no unknown fields."""
    if type(raw) is not dict:
        wrong(raw, where, "must be a JSON object")
    if not raw.keys() <= allowed:
        unknown = sorted(raw.keys() - allowed)[0]
        fail(f"{where}.{unknown}" if where != "row" else unknown, "unknown field")
    return raw


def identifier(value: Any, field: str) -> str:
    """An external id: a string of 1 to 200 characters after trimming, without NUL or lone surrogates."""
    if type(value) is not str:
        wrong(value, field, "must be a string")
    value = value.strip()
    if not 0 < len(value) <= 200:
        fail(field, "must be 1 to 200 characters")
    if problem := text_problem(value):
        fail(field, problem)
    return value


def name(value: Any, field: str) -> str:
    """An attribute name: letters, digits and _ . : - only, at most 100."""
    if type(value) is not str or not _NAME.fullmatch(value):
        wrong(value, field, "must be 1 to 100 of A-Z a-z 0-9 _ . : -")
    return value


def boolean(value: Any, field: str) -> bool:
    """A JSON boolean."""
    if type(value) is not bool:
        wrong(value, field, "must be true or false")
    return value


def timestamp(value: Any, field: str) -> datetime:
    """An ISO 8601 timestamp with a time zone, from 1900-01-01 to 9999-12-31 in UTC."""
    if type(value) is not str:
        wrong(value, field, "must be an ISO 8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(field, "must be an ISO 8601 timestamp")
    if parsed.tzinfo is None:
        fail(field, "must include a time zone")
    if not 1900 < parsed.year < 9999 and (problem := timestamp_problem(parsed)):
        fail(field, problem)
    return parsed


def number(value: Any, field: str, low: float, high: float) -> float:
    """A finite JSON number within bounds."""
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        fail(field, f"must be a number from {low:g} to {high:g}")
    return float(value)


def json_text(value: Any, field: str) -> str:
    """A JSON value serialised compactly; NUL, lone surrogates, non-finite numbers, deep nesting refused."""
    # The value is walked only when its text leaves a doubt: an escaped NUL, a null (orjson writes
    # non-finite numbers as null), or enough brackets to nest too deep. Lone surrogates and keys that
    # are not strings fail to serialise.
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        data = b"null"  # walked below, which names the problem
    if b"\\u0000" in data or b"null" in data or data.count(b"{") + data.count(b"[") >= MAX_JSON_DEPTH:
        if problem := json_problem(value):
            fail(field, problem)
        data = orjson.dumps(value)
    return data.decode()
