"""The treatment of one customer at one touchpoint, from stored results only (no scoring here)."""

from __future__ import annotations

from sqlmodel import Session

from service.engagement.schemas import EngagementMode
from service.engagement.service import phase_engagement
from service.errors import NotFound
from service.holdouts import TOUCHPOINT, ArmOf, current
from service.profiles.models import Customer
from service.relationships.models import RelationshipSettings
from service.relationships.service import offer_in
from service.tailoring.schemas import PlanEntry
from service.tailoring.service import plan_of
from service.treatment import repository
from service.treatment.evidence import measured_at, treatment_pays
from service.treatment.models import CustomerValue, Touchpoint, TreatmentSettings
from service.treatment.policy import STANDARD, Priority, priority_for
from service.treatment.relationship_verdict import relationship_verdict
from service.treatment.schemas import (
    ExitRamp,
    TreatmentDecision,
    TreatmentMode,
    TreatmentReasons,
    TreatmentRule,
    ValueTier,
)


def value_tier(row: CustomerValue | None, profiling: bool) -> ValueTier | None:
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
        return [], "No attributes are tailored at this touchpoint."
    plan = plan_of(session, tenant_id, customer)
    entries = {entry.attribute: entry for entry in plan.attributes}
    missing = "Default: not scored yet, so nothing says tailoring it pays."
    return [
        entries.get(name) or PlanEntry(attribute=name, tailored=False, values=[], reason=missing)
        for name in attributes
    ], plan.reason


def exit_ramp_of(touchpoint: Touchpoint, tenant_ramp: dict[str, object]) -> tuple[ExitRamp, str]:
    """The touchpoint's own exit ramp, else the tenant's."""
    if touchpoint.exit_ramp is not None:
        return ExitRamp.model_validate(touchpoint.exit_ramp), "The touchpoint's own way to reach a person."
    return ExitRamp.model_validate(tenant_ramp), "The tenant's way to reach a person (always offered)."


def experimented(
    priority: Priority, tenant_id: int, customer: Customer, touchpoint: Touchpoint
) -> tuple[Priority, ArmOf | None]:
    """The priority as the touchpoint's holdout experiment has it: standard when held out, and its verdict."""
    arm = None
    if customer.consent_personalization and touchpoint.mode != TreatmentMode.never.value:
        arm = current().arm(tenant_id, TOUCHPOINT, touchpoint.name, customer.external_id)
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
    touchpoint = view.touchpoint
    settings = view.settings or TreatmentSettings(tenant_id=tenant_id)
    profiling = view.customer.consent_profiling
    tier = value_tier(view.value, profiling)
    priority = priority_for(
        [TreatmentRule.model_validate(rule) for rule in touchpoint.rules],
        TreatmentMode(touchpoint.mode),
        treatment_pays(touchpoint),
        profiling,
        None if tier is None or view.value is None else 100.0 - view.value.percentile,
    )
    priority, arm = experimented(priority, tenant_id, view.customer, touchpoint)
    engagement = phase_engagement(
        touchpoint.journey_phase,
        view.stated,
        view.observed,
        EngagementMode(settings.default_engagement_mode),
        profiling,
    )
    exit_ramp, ramp_reason = exit_ramp_of(touchpoint, settings.exit_ramp)
    attributes, attributes_reason = touchpoint_attributes(
        session, tenant_id, view.customer, touchpoint.attributes
    )
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
        attributes=attributes,
        relationship=offer_in(
            session,
            view.customer,
            touchpoint.journey_phase,
            view.relationship_settings or RelationshipSettings(tenant_id=tenant_id),
            view.relationship_stated,
            relationship_verdict,
        ),
        reasons=TreatmentReasons(
            priority=priority.reason,
            engagement_mode=engagement.reason,
            exit_ramp=ramp_reason,
            attributes=attributes_reason,
        ),
        experiment=None if arm is None else arm.public(),
    )
