"""Rules of touchpoints and treatment settings: validate, store, audit with before and after."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from sqlmodel import Session

from service.audit import service as audit
from service.auth import Caller
from service.catalog import repository as catalog
from service.db import utcnow
from service.engagement.schemas import EngagementMode
from service.errors import NotFound, Unprocessable, field_error
from service.treatment import repository
from service.treatment.evidence import treatment_pays
from service.treatment.models import Touchpoint, TreatmentSettings
from service.treatment.schemas import (
    TouchpointPublic,
    TouchpointPut,
    TreatmentRule,
    TreatmentSettingsPublic,
    TreatmentSettingsPut,
)
from service.treatment.tenant_settings import effective_settings, settings_dict


def check_rules(rules: list[TreatmentRule]) -> None:
    """Tiers widen strictly and a wider tier never gets a higher priority than a narrower one."""
    for index in range(1, len(rules)):
        previous, rule = rules[index - 1], rules[index]
        if rule.top_percent <= previous.top_percent:
            raise Unprocessable(
                "Rules go from the narrowest tier to the widest (top_percent is cumulative).",
                errors=[
                    field_error(
                        f"body.rules[{index}].top_percent",
                        f"must be greater than the previous rule's {previous.top_percent:g}",
                    )
                ],
            )
        if rule.priority < previous.priority:
            raise Unprocessable(
                "A wider tier cannot be served before a narrower one (1 is served first).",
                errors=[
                    field_error(
                        f"body.rules[{index}].priority",
                        f"must be at least the previous rule's {previous.priority}",
                    )
                ],
            )


def check_attributes(session: Session, tenant_id: int, attributes: list[str]) -> None:
    """Every attribute named is one the tenant has defined."""
    defined = {a.name for a in catalog.list_attributes(session, tenant_id)}
    for index, name in enumerate(attributes):
        if name not in defined:
            raise Unprocessable(
                f"No attribute {name!r} is defined.",
                errors=[field_error(f"body.attributes[{index}]", "unknown attribute")],
            )


def to_public(touchpoint: Touchpoint) -> TouchpointPublic:
    """The caller's view of a touchpoint, with the evidence auto mode consults."""
    return TouchpointPublic.model_validate(
        {
            **touchpoint_dict(touchpoint),
            "name": touchpoint.name,
            "treatment_pays": treatment_pays(touchpoint),
            "updated_at": touchpoint.updated_at,
        }
    )


def touchpoint_dict(touchpoint: Touchpoint) -> dict[str, Any]:
    """The audited fields of a touchpoint."""
    return {
        "journey_phase": touchpoint.journey_phase,
        "attributes": touchpoint.attributes,
        "mode": touchpoint.mode,
        "rules": touchpoint.rules,
        "exit_ramp": touchpoint.exit_ramp,
    }


def require_touchpoint(session: Session, tenant_id: int, name: str) -> Touchpoint:
    """The tenant's touchpoint, or a 404."""
    touchpoint = repository.get_touchpoint(session, tenant_id, name)
    if touchpoint is None:
        raise NotFound(f"No touchpoint {name!r}.")
    return touchpoint


def list_touchpoints(session: Session, tenant_id: int) -> list[TouchpointPublic]:
    """Every touchpoint of the tenant."""
    return [to_public(t) for t in repository.list_touchpoints(session, tenant_id)]


def get_touchpoint(session: Session, tenant_id: int, name: str) -> TouchpointPublic:
    """One touchpoint."""
    return to_public(require_touchpoint(session, tenant_id, name))


def put_touchpoint(
    session: Session, tenant_id: int, caller: Caller | None, name: str, body: TouchpointPut
) -> tuple[TouchpointPublic, bool]:
    """Create or replace a touchpoint; audit-logged (by the CLI when no caller); True when created."""
    check_rules(body.rules)
    check_attributes(session, tenant_id, body.attributes)
    touchpoint = repository.get_touchpoint(session, tenant_id, name)
    before = None if touchpoint is None else touchpoint_dict(touchpoint)
    touchpoint = touchpoint or Touchpoint(
        tenant_id=tenant_id, name=name, journey_phase=body.journey_phase, mode=body.mode.value
    )
    for field, value in body.model_dump(mode="json").items():
        setattr(touchpoint, field, value)
    touchpoint.updated_at = utcnow()
    repository.save(session, touchpoint)
    after = touchpoint_dict(touchpoint)
    action = "touchpoint.created" if before is None else "touchpoint.updated"
    audit.record(session, tenant_id, caller, action, name, before, after)
    return to_public(touchpoint), before is None


def delete_touchpoint(session: Session, caller: Caller, name: str) -> None:
    """Delete a touchpoint; audit-logged."""
    touchpoint = require_touchpoint(session, caller.tenant_id, name)
    before = touchpoint_dict(touchpoint)
    repository.delete_touchpoint(session, touchpoint)
    audit.record(session, caller.tenant_id, caller, "touchpoint.deleted", name, before, None)


def get_settings(session: Session, tenant_id: int) -> TreatmentSettingsPublic:
    """The tenant's treatment settings in force."""
    stored = repository.get_settings(session, tenant_id)
    settings = stored or TreatmentSettings(tenant_id=tenant_id)
    return TreatmentSettingsPublic.model_validate(
        {**settings_dict(settings), "updated_at": stored.updated_at if stored else None}
    )


def put_settings(session: Session, caller: Caller, body: TreatmentSettingsPut) -> TreatmentSettingsPublic:
    """Replace the tenant's treatment settings; audit-logged (value changes apply from the next run)."""
    stored = repository.get_settings(session, caller.tenant_id)
    before = None if stored is None else settings_dict(stored)
    settings = stored or TreatmentSettings(tenant_id=caller.tenant_id)
    for field, value in body.model_dump(mode="json").items():
        setattr(settings, field, value)
    settings.updated_at = utcnow()
    repository.save(session, settings)
    audit.record(
        session, caller.tenant_id, caller, "treatment.settings.updated", None, before, settings_dict(settings)
    )
    return get_settings(session, caller.tenant_id)


TIER_EDGES = (1.0, 5.0, 20.0, 50.0)


def value_tiers(session: Session, tenant_id: int) -> list[tuple[str, int]]:
    """How many customers the latest scoring run put in each value tier, highest first."""
    counts = repository.value_tier_counts(session, tenant_id, TIER_EDGES)
    names = ["top 1%"] + [f"top {low:g}-{high:g}%" for low, high in pairwise(TIER_EDGES)]
    names.append(f"bottom {100 - TIER_EDGES[-1]:g}%")
    tiers = [(name, counts.get(index, 0)) for index, name in enumerate(names)]
    return [*tiers, ("no value known", repository.customers_without_value(session, tenant_id))]


def default_engagement_mode(session: Session, tenant_id: int) -> EngagementMode:
    """The tenant's default engagement mode (engagement reads it through the app)."""
    return EngagementMode(effective_settings(session, tenant_id).default_engagement_mode)
