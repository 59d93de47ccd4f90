"""Customer rows of a sync batch: checked field by field, each failure a reason naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.bulk.checks import (
    MISSING,
    boolean,
    fail,
    fields_of,
    identifier,
    json_text,
    name,
    number,
    timestamp,
    wrong,
)

SOURCES = frozenset({"stated", "crm", "inferred"})
MAX_PREFERENCES = 1_000
# Timestamps that PostgreSQL reads exactly as datetime.fromisoformat does, so COPY can take them as sent
# (offsets up to 15:59 only: PostgreSQL refuses larger ones, which are sent converted to UTC).
_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-](0\d|1[0-5]):\d\d)", re.ASCII
).fullmatch
_CUSTOMER_FIELDS = frozenset({"external_id", "traits", "consent", "preferences", "source_updated_at"})
_CONSENT_FIELDS = frozenset({"personalization", "profiling"})
_PREFERENCE_FIELDS = frozenset({"attribute", "value", "weight", "source"})

Preference = tuple[str, str, float, str]


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


def _consent(value: Any) -> tuple[bool, bool]:
    """Consent to personalization and to profiling."""
    if type(value) is dict and value.keys() == _CONSENT_FIELDS:
        personalization, profiling = value["personalization"], value["profiling"]
        if type(personalization) is bool and type(profiling) is bool:
            return personalization, profiling
    consent = fields_of(value, _CONSENT_FIELDS, "consent").get
    return (
        boolean(consent("personalization", MISSING), "consent.personalization"),
        boolean(consent("profiling", MISSING), "consent.profiling"),
    )


def customer_row(raw: Any) -> CustomerRow:
    """Check one customer row of a sync batch."""
    get = fields_of(raw, _CUSTOMER_FIELDS, "row").get
    external_id = identifier(get("external_id", MISSING), "external_id")
    traits = get("traits", MISSING)
    if type(traits) is not dict:
        wrong(traits, "traits", "must be a JSON object")
    personalization, profiling = _consent(get("consent", MISSING))
    at = get("source_updated_at", MISSING)
    when = timestamp(at, "source_updated_at")
    return CustomerRow(
        external_id,
        traits,
        json_text(traits, "traits"),
        personalization,
        profiling,
        preferences(get("preferences"), "preferences"),
        when,
        at if _RFC3339(at) else when.astimezone(UTC).isoformat(),
    )
