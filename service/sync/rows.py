"""Bulk rows: fast, strict checks of one parsed JSON row, each failure a reason naming the field."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import orjson

SOURCES = frozenset({"stated", "crm", "inferred"})
MAX_PREFERENCES = 1_000
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
# Timestamps that PostgreSQL reads exactly as datetime.fromisoformat does, so COPY can take them as sent.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)", re.ASCII)
_CUSTOMER_FIELDS = frozenset({"external_id", "traits", "consent", "preferences", "source_updated_at"})
_CONSENT_FIELDS = frozenset({"personalization", "profiling"})
_PREFERENCE_FIELDS = frozenset({"attribute", "value", "weight", "source"})
MISSING: Any = object()

Preference = tuple[str, str, float, str]


class RowError(ValueError):
    """A row that cannot be stored; the message names the field."""


@dataclass(slots=True)
class CustomerRow:
    """A checked customer row; traits_json and source_updated_at_text as PostgreSQL reads them."""

    external_id: str
    traits: dict[str, Any]
    traits_json: str
    consent_personalization: bool
    consent_profiling: bool
    preferences: list[Preference] | None
    source_updated_at: datetime
    source_updated_at_text: str

    @property
    def key(self) -> str:
        """The id the row is merged on."""
        return self.external_id


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
    """An external id: a string of 1 to 200 characters after trimming, without NUL."""
    if type(value) is not str:
        wrong(value, field, "must be a string")
    value = value.strip()
    if not 0 < len(value) <= 200:
        fail(field, "must be 1 to 200 characters")
    if "\x00" in value:
        fail(field, "must not contain NUL characters")
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
    """An ISO 8601 timestamp with a time zone."""
    if type(value) is not str:
        wrong(value, field, "must be an ISO 8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(field, "must be an ISO 8601 timestamp")
    if parsed.tzinfo is None:
        fail(field, "must include a time zone")
    return parsed


def number(value: Any, field: str, low: float, high: float) -> float:
    """A finite JSON number within bounds."""
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        fail(field, f"must be a number from {low:g} to {high:g}")
    return float(value)


def json_text(value: Any, field: str) -> str:
    """A JSON value serialised compactly; NUL characters are refused (PostgreSQL cannot store them)."""
    dumped = orjson.dumps(value).decode()
    if "\\u0000" in dumped and re.search(r"(?<!\\)(\\\\)*\\u0000", dumped):
        fail(field, "must not contain NUL characters")
    return dumped


def preferences(value: Any, field: str) -> list[Preference] | None:
    """Preferences as in PUT /v1/customers/{id}/preferences; the last entry wins for a repeated value."""
    if value is None:
        return None
    if type(value) is not list or len(value) > MAX_PREFERENCES:
        fail(field, f"must be a list of at most {MAX_PREFERENCES} preferences")
    unique: dict[tuple[str, str], Preference] = {}
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        item = fields_of(item, _PREFERENCE_FIELDS, where)
        attribute = name(item.get("attribute", MISSING), where + ".attribute")
        chosen = identifier(item.get("value", MISSING), where + ".value")
        weight = number(item.get("weight", 1.0), where + ".weight", 0, 1_000)
        source = item.get("source", "stated")
        if type(source) is not str or source not in SOURCES:
            fail(where + ".source", "must be one of crm, inferred, stated")
        unique[attribute, chosen] = (attribute, chosen, weight, source)
    return sorted(unique.values())


def customer_row(raw: Any) -> CustomerRow:
    """Check one customer row of a sync batch."""
    get = fields_of(raw, _CUSTOMER_FIELDS, "row").get
    external_id = identifier(get("external_id", MISSING), "external_id")
    traits = get("traits", MISSING)
    if type(traits) is not dict:
        wrong(traits, "traits", "must be a JSON object")
    consent = fields_of(get("consent", MISSING), _CONSENT_FIELDS, "consent").get
    at = get("source_updated_at", MISSING)
    when = timestamp(at, "source_updated_at")
    return CustomerRow(
        external_id=external_id,
        traits=traits,
        traits_json=json_text(traits, "traits"),
        consent_personalization=boolean(consent("personalization", MISSING), "consent.personalization"),
        consent_profiling=boolean(consent("profiling", MISSING), "consent.profiling"),
        preferences=preferences(get("preferences"), "preferences"),
        source_updated_at=when,
        source_updated_at_text=at if _RFC3339.fullmatch(at) else when.isoformat(),
    )
