"""Rules of tailoring: start runs, read decisions, change settings with audit, plan for a customer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from recommender.decision import Decision, Thresholds
from recommender.value.distribution import personal_distribution
from service.audit import service as audit
from service.auth import Caller
from service.catalog import repository as catalog
from service.db import utcnow
from service.errors import NotFound
from service.holdouts import ATTRIBUTE, current
from service.jobs import service as runs
from service.jobs.models import Run
from service.profiles.models import Customer
from service.profiles.service import require_customer
from service.tailoring import repository
from service.tailoring.in_force import Judged, ParsedResult, current_decisions, judge, parse
from service.tailoring.models import TailoringSettings
from service.tailoring.schemas import (
    AttributeTailoringPut,
    DecisionPublic,
    PlanEntry,
    SettingsPublic,
    SettingsPut,
    TailoringPlan,
)
from service.tailoring.thresholds import effective_settings, or_defaults, thresholds_for

SCORING = "scoring"
# A value is the customer's usual once chosen this many times.
MIN_USUAL = 2


def queue_run(session: Session, tenant_id: int, caller: Caller | None, attribute: str | None) -> Run:
    """Queue a scoring run of every attribute or one; it executes outside the request."""
    if attribute is not None and catalog.get_attribute(session, tenant_id, attribute) is None:
        raise NotFound(f"No attribute {attribute!r} is defined.")
    run = Run(
        tenant_id=tenant_id,
        kind=SCORING,
        params={"attribute": attribute},
        requested_by=audit.actor_of(caller),
    )
    return runs.add_run(session, run)


def list_decisions(session: Session, tenant_id: int) -> list[DecisionPublic]:
    """Every scored attribute's decision."""
    return [public for public, _, _ in current_decisions(session, tenant_id)]


def get_decision(session: Session, tenant_id: int, attribute: str) -> DecisionPublic:
    """One attribute's decision, or a 404 saying what is missing."""
    if catalog.get_attribute(session, tenant_id, attribute) is None:
        raise NotFound(f"No attribute {attribute!r} is defined.")
    found = current_decisions(session, tenant_id, attribute)
    if not found:
        raise NotFound(f"Attribute {attribute!r} has not been scored yet: start a run at /v1/tailoring/runs.")
    return found[0][0]


def _settings_dict(settings: TailoringSettings) -> dict[str, Any]:
    """The audited fields of the tenant settings."""
    return {
        "tau": settings.tau,
        "k": settings.k,
        "min_customers": settings.min_customers,
        "min_events_per_customer": settings.min_events_per_customer,
    }


def get_settings(session: Session, tenant_id: int) -> SettingsPublic:
    """The tenant's settings in force."""
    stored = repository.get_settings(session, tenant_id)
    settings = or_defaults(stored, tenant_id)
    return SettingsPublic(**_settings_dict(settings), updated_at=stored.updated_at if stored else None)


def put_settings(session: Session, caller: Caller, body: SettingsPut) -> SettingsPublic:
    """Replace the tenant's settings; audit-logged with before and after."""
    stored = repository.get_settings(session, caller.tenant_id)
    before = _settings_dict(stored) if stored else None
    settings = or_defaults(stored, caller.tenant_id)
    for name, value in body.model_dump().items():
        setattr(settings, name, value)
    settings.updated_at = utcnow()
    repository.save_settings(session, settings)
    audit.record(
        session,
        caller.tenant_id,
        caller,
        "tailoring.settings.updated",
        None,
        before,
        _settings_dict(settings),
    )
    return get_settings(session, caller.tenant_id)


def put_attribute_tailoring(
    session: Session, caller: Caller, name: str, body: AttributeTailoringPut
) -> dict[str, Any]:
    """Set an attribute's f, u, c, tau override and mode; audit-logged."""
    attribute = catalog.get_attribute(session, caller.tenant_id, name)
    if attribute is None:
        raise NotFound(f"No attribute {name!r} is defined.")
    fields = ("f", "u", "c", "tau", "mode")
    before = {f: getattr(attribute, f) for f in fields}
    after = body.model_dump(mode="json")
    for field, value in after.items():
        setattr(attribute, field, value)
    attribute.updated_at = utcnow()
    catalog.save_attribute(session, attribute)
    audit.record(session, caller.tenant_id, caller, "attribute.tailoring.updated", name, before, after)
    return {"attribute": name, **after}


def plan_for(session: Session, tenant_id: int, external_id: str, top: int = 3) -> TailoringPlan:
    """Per attribute: the customer's most likely values where tailoring pays, else the default."""
    return plan_of(session, tenant_id, require_customer(session, tenant_id, external_id), top)


def plan_of(session: Session, tenant_id: int, customer: Customer, top: int = 3) -> TailoringPlan:
    """plan_for of a customer row already read: its choices, stated preferences and decisions in force."""
    allowed = customer.consent_personalization
    choices = (
        repository.customer_choices(session, tenant_id, customer.id or 0)
        if allowed
        else repository.CustomerChoices({}, {}, {})
    )
    decisions = current_decisions(session, tenant_id)
    return plan_from(tenant_id, customer.external_id, allowed, choices, decisions, utcnow(), top)


def plan_from(
    tenant_id: int,
    external_id: str,
    allowed: bool,
    choices: repository.CustomerChoices,
    decisions: list[Judged],
    now: datetime,
    top: int = 3,
) -> TailoringPlan:
    """The plan from what was read: personalization consent, the customer's choices, decisions in force."""
    entries = []
    for public, decision, parsed in decisions:
        if decision.decision != "tailor":
            entries.append(_default_entry(public, decision.explanation))
        elif not allowed:
            entries.append(
                _default_entry(public, "tailoring pays, but the customer has not consented to it.")
            )
        else:
            entries.append(
                _experimented_entry(tenant_id, external_id, public, decision, parsed, choices, top, now)
            )
    reason = (
        "Personalized where the scorer says it pays."
        if allowed
        else "The customer has not consented to personalization: every attribute uses the default."
    )
    return TailoringPlan(customer_id=external_id, personalized=allowed, reason=reason, attributes=entries)


def _experimented_entry(
    tenant_id: int,
    external_id: str,
    public: DecisionPublic,
    decision: Decision,
    parsed: ParsedResult,
    choices: repository.CustomerChoices,
    top: int,
    now: datetime,
) -> PlanEntry:
    """A tailored attribute as holdout experiments have it: switched off, held out, or tailored."""
    holdouts = current()
    measured = holdouts.measured(tenant_id, ATTRIBUTE, public.attribute)
    if measured is not None and measured.switched_off and decision.override is None:
        return _default_entry(public, f"tailoring was {measured.note} (mode auto).")
    arm = holdouts.arm(tenant_id, ATTRIBUTE, public.attribute, external_id)
    if arm is not None and arm.held_out:
        entry = _default_entry(public, arm.reason())
    else:
        entry = _tailored_entry(public, decision, parsed, choices, top, now)
        if arm is not None:
            entry.reason += f" {arm.reason()}"
    if measured is not None:
        entry.reason += f" Tailoring {measured.note}."
    entry.experiment = None if arm is None else arm.public()
    return entry


def _tailored_entry(
    public: DecisionPublic,
    decision: Decision,
    parsed: ParsedResult,
    choices: repository.CustomerChoices,
    top: int,
    now: datetime,
) -> PlanEntry:
    """The customer's most likely values from the scorer's shrinkage model and their usual, if any."""
    counts, stated = choices.counts.get(public.attribute, {}), choices.stated.get(public.attribute, {})
    own = {parsed.index[v]: w for v, w in counts.items() if v in parsed.index}
    said = {parsed.index[v]: w for v, w in stated.items() if v in parsed.index}
    if not own and not said:
        return _default_entry(
            public, "worth tailoring, but nothing is known yet about this customer's choices."
        )
    best = personal_distribution(own, said, parsed.score, top=top)
    usual = _usual(choices.bought.get(public.attribute, {}), now)
    reason = f"Tailored ({public.level}): {decision.explanation}"
    if usual is not None:
        reason += f" Your usual: {usual['value']}, chosen {usual['times']} times."
    return PlanEntry(
        attribute=public.attribute,
        tailored=True,
        values=[{"value": parsed.labels[i], "probability": round(p, 4)} for i, p in best],
        reason=reason,
        usual=usual,
    )


def _usual(bought: dict[str, tuple[int, datetime]], now: datetime) -> dict[str, Any] | None:
    """The value chosen most often (the latest on a tie), if chosen at least MIN_USUAL times."""
    if not bought:
        return None
    value, (times, latest) = max(bought.items(), key=lambda entry: entry[1])
    if times < MIN_USUAL:
        return None
    days = max(0, (now - latest).days)
    return {"value": value, "times": times, "last_days_ago": days}


def _default_entry(public: DecisionPublic, why: str) -> PlanEntry:
    """The mass default of an attribute (its most chosen value) and why it applies."""
    top = next(iter(public.population_top.items()), None)
    values = [] if top is None else [{"value": top[0], "probability": top[1]}]
    return PlanEntry(attribute=public.attribute, tailored=False, values=values, reason=f"Default: {why}")


def attribute_history(session: Session, tenant_id: int, name: str, limit: int = 50) -> list[DecisionPublic]:
    """An attribute's measurements across its latest scoring runs, oldest first, judged with today's bar."""
    attribute = catalog.get_attribute(session, tenant_id, name)
    if attribute is None:
        raise NotFound(f"No attribute {name!r} is defined.")
    thresholds = thresholds_for(effective_settings(session, tenant_id), attribute)
    rows = repository.results_of_attribute(session, tenant_id, name, limit)
    return [judge(parse(row), thresholds)[0] for row in reversed(rows)]


def preview_decision(
    session: Session, tenant_id: int, name: str, body: AttributeTailoringPut
) -> DecisionPublic:
    """The decision the attribute's newest score would get under new f, u, c, tau and mode (nothing saved)."""
    current = get_decision(session, tenant_id, name)
    found = current_decisions(session, tenant_id, name)[0]
    values = body.model_dump(mode="json")
    tau = values.pop("tau")
    thresholds = replace(
        Thresholds(**current.thresholds.model_dump()),
        **values,
        tau=effective_settings(session, tenant_id).tau if tau is None else tau,
    )
    return judge(found[2], thresholds)[0]
