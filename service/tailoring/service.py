"""Rules of tailoring: start runs, read decisions, change settings with audit, plan for a customer."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

from sqlmodel import Session

from recommender.value import AttributeScore, Decision, Thresholds, decide, personal_distribution
from service.audit import service as audit
from service.auth import Caller
from service.catalog import repository as catalog
from service.db import utcnow
from service.errors import NotFound
from service.jobs import repository as runs
from service.jobs.models import Run
from service.profiles.service import require_customer
from service.tailoring import repository
from service.tailoring.models import AttributeResult, TailoringSettings
from service.tailoring.schemas import (
    AttributeTailoringPut,
    Bounds,
    DecisionPublic,
    PlanEntry,
    SegmentPublic,
    SettingsPublic,
    SettingsPut,
    TailoringPlan,
    ThresholdsPublic,
)
from service.tailoring.settings import effective_settings, thresholds_for

SCORING = "scoring"


@dataclass(frozen=True)
class ParsedResult:
    """A stored result turned back into the scorer's types, with its value labels indexed."""

    score: AttributeScore
    labels: list[str]
    index: dict[str, int]


class _ResultCache:
    """Parsed results: a stored result never changes, so each is parsed once per process."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[tuple[int, str, str], ParsedResult] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, row: AttributeResult) -> ParsedResult:
        """The parsed form of a result row (keyed by id and timestamp, so a reset database never aliases)."""
        key = (row.id or 0, row.attribute, row.computed_at.isoformat())
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        parsed = ParsedResult(
            AttributeScore.from_dict(row.score),
            row.value_labels,
            {label: i for i, label in enumerate(row.value_labels)},
        )
        with self._lock:
            self._items[key] = parsed
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return parsed


_parsed = _ResultCache()


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
    return runs.add(session, run)


def get_run(session: Session, tenant_id: int, run_id: int, kind: str = SCORING) -> Run:
    """The tenant's run, or a 404."""
    run = runs.get(session, tenant_id, kind, run_id)
    if run is None:
        raise NotFound(f"No {kind} run {run_id}.")
    return run


def _bounds(interval: Any) -> Bounds | None:
    """An Interval as a response model."""
    return (
        None if interval is None else Bounds(estimate=interval.estimate, low=interval.low, high=interval.high)
    )


def _labelled(shares: dict[int, float], labels: list[str], top: int = 10) -> dict[str, float]:
    """The largest shares keyed by value label."""
    best = sorted(shares.items(), key=lambda item: -item[1])[:top]
    return {labels[i]: round(share, 6) for i, share in best}


def to_decision(
    row: AttributeResult, thresholds: Thresholds
) -> tuple[DecisionPublic, Decision, ParsedResult]:
    """A stored result judged against the thresholds in force now."""
    parsed = _parsed.get(row)
    score = parsed.score
    decision = decide(score, thresholds, attribute=row.attribute)
    public = DecisionPublic(
        attribute=row.attribute,
        decision=decision.decision,
        level=decision.level,
        explanation=decision.explanation,
        override=decision.override,
        phi=_bounds(score.phi),
        lift=_bounds(score.lift),
        delta_hit=_bounds(score.delta_hit),
        value=_bounds(decision.value),
        segment_lift=_bounds(score.segment_lift),
        segment_delta_hit=_bounds(score.segment_delta_hit),
        individual_over_segment_lift=_bounds(score.individual_over_segment_lift),
        n_segments=score.n_segments,
        segments=[
            SegmentPublic(
                share=s.share,
                top_value=parsed.labels[s.top_value],
                top_values=_labelled(s.top_shares, parsed.labels, 5),
            )
            for s in score.segments
        ],
        k=score.k,
        customers=score.customers,
        events=score.events,
        evaluated_customers=score.evaluated_customers,
        thresholds=ThresholdsPublic(**thresholds.__dict__),
        population_top=_labelled(score.population_shares, parsed.labels),
        computed_at=row.computed_at,
        run_id=row.run_id,
    )
    return public, decision, parsed


def current_decisions(
    session: Session, tenant_id: int, attribute: str | None = None
) -> list[tuple[DecisionPublic, Decision, ParsedResult]]:
    """The latest result of every defined attribute, judged with today's thresholds."""
    settings = effective_settings(session, tenant_id)
    attributes = {a.name: a for a in catalog.list_attributes(session, tenant_id)}
    return [
        to_decision(row, thresholds_for(settings, attributes[row.attribute]))
        for row in repository.latest_results(session, tenant_id, attribute)
        if row.attribute in attributes
    ]


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
    settings = stored or TailoringSettings(tenant_id=tenant_id)
    return SettingsPublic(**_settings_dict(settings), updated_at=stored.updated_at if stored else None)


def put_settings(session: Session, caller: Caller, body: SettingsPut) -> SettingsPublic:
    """Replace the tenant's settings; audit-logged with before and after."""
    stored = repository.get_settings(session, caller.tenant_id)
    before = _settings_dict(stored) if stored else None
    settings = stored or TailoringSettings(tenant_id=caller.tenant_id)
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
    customer = require_customer(session, tenant_id, external_id)
    allowed = customer.consent_personalization
    counts = repository.customer_counts(session, tenant_id, customer.id or 0) if allowed else {}
    stated = repository.customer_stated(session, customer.id or 0) if allowed else {}
    entries = []
    for public, decision, parsed in current_decisions(session, tenant_id):
        if decision.decision != "tailor":
            entries.append(_default_entry(public, decision.explanation))
        elif not allowed:
            entries.append(
                _default_entry(public, "tailoring pays, but the customer has not consented to it.")
            )
        else:
            entries.append(_tailored_entry(public, decision, parsed, counts, stated, top))
    reason = (
        "Personalized where the scorer says it pays."
        if allowed
        else "The customer has not consented to personalization: every attribute uses the default."
    )
    return TailoringPlan(customer_id=external_id, personalized=allowed, reason=reason, attributes=entries)


def _tailored_entry(
    public: DecisionPublic,
    decision: Decision,
    parsed: ParsedResult,
    counts: dict[str, dict[str, float]],
    stated: dict[str, dict[str, float]],
    top: int,
) -> PlanEntry:
    """The customer's most likely values from the scorer's shrinkage model, or the default if unknown."""
    own = {parsed.index[v]: w for v, w in counts.get(public.attribute, {}).items() if v in parsed.index}
    said = {parsed.index[v]: w for v, w in stated.get(public.attribute, {}).items() if v in parsed.index}
    if not own and not said:
        return _default_entry(
            public, "worth tailoring, but nothing is known yet about this customer's choices."
        )
    best = personal_distribution(own, said, parsed.score, top=top)
    return PlanEntry(
        attribute=public.attribute,
        tailored=True,
        values=[{"value": parsed.labels[i], "probability": round(p, 4)} for i, p in best],
        reason=f"Tailored ({public.level}): {decision.explanation}",
    )


def _default_entry(public: DecisionPublic, why: str) -> PlanEntry:
    """The mass default of an attribute (its most chosen value) and why it applies."""
    top = next(iter(public.population_top.items()), None)
    values = [] if top is None else [{"value": top[0], "probability": top[1]}]
    return PlanEntry(attribute=public.attribute, tailored=False, values=values, reason=f"Default: {why}")
