"""The treatment of one customer at one touchpoint, from stored results only (no scoring here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.engagement.schemas import EngagementMode, PhaseEngagement
from service.engagement.service import phase_engagement
from service.errors import NotFound
from service.holdouts import TOUCHPOINT, ArmOf, current
from service.profiles.models import Customer
from service.relationships.models import RelationshipSettings
from service.relationships.rules import History, Verdict
from service.relationships.schemas import RelationshipOffer
from service.relationships.service import histories_from, offer_in, phase_offer
from service.tailoring.in_force import Judged
from service.tailoring.repository import CustomerChoices
from service.tailoring.schemas import PlanEntry, TailoringPlan
from service.tailoring.service import plan_from, plan_of
from service.treatment import repository
from service.treatment.evidence import measured_at, treatment_pays
from service.treatment.models import TreatmentSettings
from service.treatment.plain_rows import (
    DecisionRead,
    PlainRelationshipSettings,
    PlainTreatmentSettings,
    TenantTreatment,
    TouchpointFields,
    ValueFields,
)
from service.treatment.policy import STANDARD, Priority, priority_for
from service.treatment.relationship_verdict import relationship_verdict, verdict_from
from service.treatment.schemas import (
    ExitRamp,
    TreatmentDecision,
    TreatmentMode,
    TreatmentReasons,
    TreatmentRule,
    ValueTier,
)

NO_ATTRIBUTES = "No attributes are tailored at this touchpoint."
# The built-in defaults of a tenant without stored settings, as plain values.
_TREATMENT_DEFAULTS = TreatmentSettings(tenant_id=0)
NO_TREATMENT_SETTINGS = PlainTreatmentSettings(
    _TREATMENT_DEFAULTS.default_engagement_mode, _TREATMENT_DEFAULTS.exit_ramp
)
_RELATIONSHIP_DEFAULTS = RelationshipSettings(tenant_id=0)
NO_RELATIONSHIP_SETTINGS = PlainRelationshipSettings(
    _RELATIONSHIP_DEFAULTS.phases,
    _RELATIONSHIP_DEFAULTS.decline_cooloff_days,
    _RELATIONSHIP_DEFAULTS.exit_ramp_label,
)


def value_tier(row: ValueFields | None, profiling: bool) -> ValueTier | None:
    """The customer's stored value tier, only with profiling consent."""
    if row is None or not profiling:
        return None
    return ValueTier(
        source=row.source,
        value=row.value,
        percentile=round(row.percentile, 4),
        top_percent=round(100.0 - row.percentile, 4),
        computed_at=row.computed_at,
    )


def touchpoint_attributes(
    session: Session, tenant_id: int, customer: Customer, attributes: list[str]
) -> tuple[list[PlanEntry], str]:
    """The customer's tailoring plan for the touchpoint's attributes, in the touchpoint's order."""
    if not attributes:
        return [], NO_ATTRIBUTES
    plan = plan_of(session, tenant_id, customer)
    return in_touchpoint_order(plan, attributes), plan.reason


def in_touchpoint_order(plan: TailoringPlan, attributes: list[str]) -> list[PlanEntry]:
    """The plan's entries of the touchpoint's attributes in its order; one not scored yet is the default."""
    entries = {entry.attribute: entry for entry in plan.attributes}
    missing = "Default: not scored yet, so nothing says tailoring it pays."
    return [
        entries.get(name) or PlanEntry(attribute=name, tailored=False, values=[], reason=missing)
        for name in attributes
    ]


def exit_ramp_of(touchpoint: TouchpointFields, tenant_ramp: dict[str, Any]) -> tuple[ExitRamp, str]:
    """The touchpoint's own exit ramp, else the tenant's."""
    if touchpoint.exit_ramp is not None:
        return ExitRamp.model_validate(touchpoint.exit_ramp), "The touchpoint's own way to reach a person."
    return ExitRamp.model_validate(tenant_ramp), "The tenant's way to reach a person (always offered)."


def experimented(
    priority: Priority, tenant_id: int, external_id: str, personalization: bool, touchpoint: TouchpointFields
) -> tuple[Priority, ArmOf | None]:
    """The priority as the touchpoint's holdout experiment has it: standard when held out, and its verdict."""
    arm = None
    if personalization and touchpoint.mode != TreatmentMode.never.value:
        arm = current().arm(tenant_id, TOUCHPOINT, touchpoint.name, external_id)
    if arm is not None and arm.held_out:
        priority = Priority(None, STANDARD, False, f"{arm.reason()} Standard treatment.")
    elif arm is not None:
        priority = Priority(
            priority.level, priority.routing, priority.recognition, f"{priority.reason} {arm.reason()}"
        )
    measured = measured_at(touchpoint)
    if measured is not None:
        note = f" Priority treatment here {measured.note}."
        priority = Priority(priority.level, priority.routing, priority.recognition, priority.reason + note)
    return priority, arm


def decide(session: Session, tenant_id: int, external_id: str, touchpoint_name: str) -> TreatmentDecision:
    """Priority, routing, recognition, engagement, exit ramp, attributes and relationship, each with why."""
    view = repository.treatment_view(session, tenant_id, touchpoint_name, external_id)
    if view is None:
        raise NotFound(f"No touchpoint {touchpoint_name!r}.")
    if view.customer is None:
        raise NotFound(f"No customer {external_id!r}.")
    customer = view.customer
    settings = view.settings or TreatmentSettings(tenant_id=tenant_id)
    attributes, attributes_reason = touchpoint_attributes(
        session, tenant_id, customer, view.touchpoint.attributes
    )
    relationship = offer_in(
        session,
        customer,
        view.touchpoint.journey_phase,
        view.relationship_settings or RelationshipSettings(tenant_id=tenant_id),
        view.relationship_stated,
        relationship_verdict,
    )
    return _decision(
        tenant_id,
        external_id,
        customer.consent_personalization,
        customer.consent_profiling,
        view.touchpoint,
        settings,
        view.value,
        phase_engagement(
            view.touchpoint.journey_phase,
            view.stated,
            view.observed,
            EngagementMode(settings.default_engagement_mode),
            customer.consent_profiling,
        ),
        (attributes, attributes_reason),
        relationship,
    )


def _decision(
    tenant_id: int,
    external_id: str,
    personalization: bool,
    profiling: bool,
    touchpoint: TouchpointFields,
    settings: TenantTreatment,
    value: ValueFields | None,
    engagement: PhaseEngagement,
    attributes: tuple[list[PlanEntry], str],
    relationship: RelationshipOffer,
) -> TreatmentDecision:
    """The decision from what was read and worked out: the same whichever way it was read."""
    tier = value_tier(value, profiling)
    priority = priority_for(
        [TreatmentRule.model_validate(rule) for rule in touchpoint.rules],
        TreatmentMode(touchpoint.mode),
        treatment_pays(touchpoint),
        profiling,
        None if tier is None or value is None else 100.0 - value.percentile,
    )
    priority, arm = experimented(priority, tenant_id, external_id, personalization, touchpoint)
    exit_ramp, ramp_reason = exit_ramp_of(touchpoint, settings.exit_ramp)
    return TreatmentDecision(
        customer_id=external_id,
        touchpoint=touchpoint.name,
        journey_phase=touchpoint.journey_phase,
        priority=priority.level,
        routing=priority.routing,
        recognition=priority.recognition,
        value=tier,
        engagement_mode=engagement.mode,
        exit_ramp=exit_ramp,
        attributes=attributes[0],
        relationship=relationship,
        reasons=TreatmentReasons(
            priority=priority.reason,
            engagement_mode=engagement.reason,
            exit_ramp=ramp_reason,
            attributes=attributes[1],
        ),
        experiment=None if arm is None else arm.public(),
    )


def decide_from(read: DecisionRead, decisions: list[Judged], now: datetime) -> TreatmentDecision:
    """The same decision as `decide`, from a plain read and the tenant's decisions in force."""
    customer, touchpoint = read.customer, read.touchpoint
    settings: TenantTreatment = read.settings or NO_TREATMENT_SETTINGS
    profiling = customer.consent_profiling
    attributes: tuple[list[PlanEntry], str] = ([], NO_ATTRIBUTES)
    if touchpoint.attributes:
        allowed = customer.consent_personalization
        choices = read.choices if allowed else CustomerChoices({}, {}, {})
        plan = plan_from(read.touchpoint.tenant_id, customer.external_id, allowed, choices, decisions, now)
        attributes = (in_touchpoint_order(plan, touchpoint.attributes), plan.reason)
    history = histories_from(read.relationship_events).get(touchpoint.journey_phase, History())

    def verdict_of(attribute: str, chosen: Mapping[str, float]) -> Verdict | None:
        return verdict_from([j for j in decisions if j[0].attribute == attribute], chosen)

    relationship, _ = phase_offer(
        read.relationship_settings or NO_RELATIONSHIP_SETTINGS,
        touchpoint.journey_phase,
        read.relationship_stated,
        history,
        profiling,
        verdict_of,
        now,
    )
    engagement = phase_engagement(
        touchpoint.journey_phase,
        read.stated,
        read.observed,
        EngagementMode(settings.default_engagement_mode),
        profiling,
    )
    return _decision(
        touchpoint.tenant_id,
        customer.external_id,
        customer.consent_personalization,
        profiling,
        touchpoint,
        settings,
        read.value,
        engagement,
        attributes,
        relationship,
    )
