"""The serving read of treatment decisions on PostgreSQL: one statement per batch, plain rows, no ORM."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.relationships.repository import EventSummary
from service.relationships.rules import DECLINES, JOURNEY_PHASE, PREFIX
from service.tailoring.repository import CUSTOMER_CHOICES_SQL, choices_from
from service.treatment.plain_rows import (
    DecisionRead,
    PlainCustomer,
    PlainRelationshipSettings,
    PlainSignals,
    PlainStatedMode,
    PlainStatedType,
    PlainTouchpoint,
    PlainTreatmentSettings,
    PlainValue,
)

# (tenant, touchpoint, customer) of one decision.
DecisionKey = tuple[int, str, str]
_CHOICES = CUSTOMER_CHOICES_SQL.replace(":customer_id", "c.id").replace(":tenant_id", "r.tenant_id")
_DECLINES = ", ".join(f"'{kind}'" for kind in DECLINES)
# A batch of requests `r`, one row each in request order: the touchpoint, the tenant's settings, the
# customer with its value, engagement and stated relationship in the touchpoint's phase, its choices
# (as tailoring reads them) and its relationship events (as relationships reads them). A missing
# touchpoint or customer leaves its columns null.
DECISIONS_SQL = f"""
    SELECT t.name, t.journey_phase, t.attributes, t.mode, t.rules, t.exit_ramp,
        s.tenant_id IS NOT NULL, s.default_engagement_mode, s.exit_ramp,
        c.id, c.consent_personalization, c.consent_profiling,
        v.source, v.value, v.percentile, v.computed_at,
        ep.mode, ep.updated_at, eo.completed, eo.abandoned, eo.called,
        rs.tenant_id IS NOT NULL, rs.phases, rs.decline_cooloff_days, rs.exit_ramp_label,
        rp.type, rp.updated_at,
        (SELECT json_agg(json_build_array(x.kind, x.attribute, x.value, x.weight, x.times, x.latest))
            FROM ({_CHOICES}) x WHERE c.id IS NOT NULL),
        (SELECT json_agg(json_build_array(y.attribute, y.value, y.type, y.weight, y.at)) FROM (
            SELECT e.attribute, e.value, e.type, SUM(e.weight) AS weight, MAX(e.occurred_at) AS at
            FROM events e
            WHERE e.tenant_id = r.tenant_id AND e.customer_id = c.id
                AND (starts_with(e.attribute, '{PREFIX}')
                    OR (e.attribute = '{JOURNEY_PHASE}' AND e.type IN ({_DECLINES})))
            GROUP BY e.attribute, e.value, e.type) y)
    FROM unnest(%(tenant_ids)s::bigint[], %(names)s::text[], %(external_ids)s::text[])
        WITH ORDINALITY AS r(tenant_id, name, external_id, n)
    LEFT JOIN touchpoints t ON t.tenant_id = r.tenant_id AND t.name = r.name
    LEFT JOIN treatment_settings s ON s.tenant_id = r.tenant_id
    LEFT JOIN customers c ON c.tenant_id = r.tenant_id AND c.external_id = r.external_id
        AND t.id IS NOT NULL
    LEFT JOIN customer_values v ON v.customer_id = c.id AND v.tenant_id = r.tenant_id
    LEFT JOIN engagement_preferences ep ON ep.customer_id = c.id AND ep.tenant_id = r.tenant_id
        AND ep.journey_phase = t.journey_phase
    LEFT JOIN engagement_observations eo ON eo.customer_id = c.id AND eo.tenant_id = r.tenant_id
        AND eo.journey_phase = t.journey_phase
    LEFT JOIN relationship_settings rs ON rs.tenant_id = r.tenant_id
    LEFT JOIN relationship_preferences rp ON rp.customer_id = c.id AND rp.tenant_id = r.tenant_id
        AND rp.journey_phase = t.journey_phase
    ORDER BY r.n
"""


def batch_params(keys: list[DecisionKey]) -> dict[str, Any]:
    """The statement's parameters for a batch of decisions."""
    return {
        "tenant_ids": [k[0] for k in keys],
        "names": [k[1] for k in keys],
        "external_ids": [k[2] for k in keys],
    }


def _utc(value: datetime | str) -> datetime:
    """A timestamp as an aware UTC datetime (JSON aggregates bring them as text)."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(UTC)


def decision_read(key: DecisionKey, row: tuple[Any, ...]) -> DecisionRead | str:
    """The plain read of one decision, or what is missing: 'touchpoint' or 'customer'."""
    (name, phase, attributes, mode, rules, exit_ramp, has_settings, engagement_default, tenant_ramp) = row[:9]
    customer_id, personalization, profiling = row[9:12]
    source, value, percentile, computed_at, stated_mode, stated_at, completed, abandoned, called = row[12:21]
    has_relationships, phases, cooloff, ramp_label, stated_type, stated_type_at, choices, events = row[21:]
    if name is None:
        return "touchpoint"
    if customer_id is None:
        return "customer"
    tenant_id, _, external_id = key
    return DecisionRead(
        touchpoint=PlainTouchpoint(tenant_id, name, phase, attributes, mode, rules, exit_ramp),
        settings=PlainTreatmentSettings(engagement_default, tenant_ramp) if has_settings else None,
        customer=PlainCustomer(customer_id, external_id, personalization, profiling),
        value=None if source is None else PlainValue(source, value, percentile, _utc(computed_at)),
        stated=None if stated_mode is None else PlainStatedMode(stated_mode, _utc(stated_at)),
        observed=None if completed is None else PlainSignals(completed, abandoned, called),
        relationship_settings=(
            PlainRelationshipSettings(phases, cooloff, ramp_label) if has_relationships else None
        ),
        relationship_stated=(
            None if stated_type is None else PlainStatedType(stated_type, _utc(stated_type_at))
        ),
        choices=choices_from(
            (kind, attribute, value, weight, times, None if latest is None else _utc(latest))
            for kind, attribute, value, weight, times, latest in choices or ()
        ),
        relationship_events=[_event(event) for event in events or ()],
    )


def _event(event: list[Any]) -> EventSummary:
    """One relationship event summary as relationships reads it."""
    attribute, value, kind, weight, at = event
    return (str(attribute), str(value), str(kind), float(weight), _utc(at))
