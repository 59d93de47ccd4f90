"""What each dashboard page shows, read through the other domains' services (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from service.audit import service as audit
from service.auth import Caller
from service.catalog import service as catalog
from service.catalog.schemas import AttributePut
from service.dashboard.charts import Span, band_over_time, ci_bar, count_bars, shared_domain, side_of_zero
from service.experiments import history as experiment_history
from service.experiments import results as experiment_results
from service.experiments import service as experiments
from service.experiments.schemas import ExperimentCreate
from service.jobs import service as jobs
from service.recommendations import service as recommendations
from service.recommendations.training import TRAINING
from service.tailoring import service as tailoring
from service.tailoring.schemas import AttributeTailoringPut, Bounds, DecisionPublic
from service.treatment import service as treatment
from service.treatment.schemas import TouchpointPut

AUDIT_PAGE = 50
HISTORY_POINTS = 30


def span_of(bounds: Bounds | None) -> Span | None:
    """A response model's interval as a chart's."""
    return None if bounds is None else Span(bounds.estimate, bounds.low, bounds.high)


@dataclass(frozen=True)
class Measured:
    """One interval of a row: its numbers, its side of zero in words, and its bar."""

    span: Span | None
    side: str
    bar: Markup


@dataclass(frozen=True)
class AttributeRow:
    """An attribute on the overview: its decision and its lift and delta hit@k bars."""

    decision: DecisionPublic
    lift: Measured
    delta_hit: Measured


def attribute_rows(decisions: list[DecisionPublic]) -> list[AttributeRow]:
    """Decisions with their CIs drawn on one shared axis per measure."""
    lifts = [span_of(d.lift) for d in decisions]
    deltas = [span_of(d.delta_hit) for d in decisions]
    lift_axis, delta_axis = shared_domain(lifts), shared_domain(deltas)
    return [
        AttributeRow(
            decision=d,
            lift=Measured(lift, side_of_zero(lift), ci_bar(lift, lift_axis, f"{d.attribute} lift")),
            delta_hit=Measured(
                delta, side_of_zero(delta), ci_bar(delta, delta_axis, f"{d.attribute} delta hit")
            ),
        )
        for d, lift, delta in zip(decisions, lifts, deltas, strict=True)
    ]


def overview(session: Session, tenant_id: int) -> dict[str, Any]:
    """Every attribute's decision and CIs, runs in progress, value tiers and experiments."""
    tiers = treatment.value_tiers(session, tenant_id)
    return {
        "rows": attribute_rows(tailoring.list_decisions(session, tenant_id)),
        "active_runs": jobs.active_runs(session, tenant_id),
        "tiers": tiers,
        "tiers_chart": count_bars(tiers, "Customers per value tier"),
        "experiments": experiments.page(session, tenant_id, None, 50).items,
    }


def attribute_page(
    session: Session, tenant_id: int, name: str, proposed: AttributeTailoringPut | None = None
) -> dict[str, Any]:
    """An attribute's decision, its measurements over runs, its settings, and a preview when proposed."""
    decision = tailoring.get_decision(session, tenant_id, name)
    history = tailoring.attribute_history(session, tenant_id, name)
    labels = [f"run {h.run_id}" for h in history]
    lifts = [s for s in (span_of(h.lift) for h in history) if s is not None]
    deltas = [s for s in (span_of(h.delta_hit) for h in history) if s is not None]
    lift_labels = [f"run {h.run_id}" for h in history if h.lift is not None]
    delta_labels = [f"run {h.run_id}" for h in history if h.delta_hit is not None]
    attribute = catalog.get_attribute(session, tenant_id, name)
    return {
        "decision": decision,
        "attribute": attribute,
        "history": history,
        "history_labels": labels,
        "lift_chart": band_over_time(
            lift_labels, lifts, f"Lift of {name} across scoring runs", "scoring run", "lift (bits per event)"
        ),
        "delta_chart": band_over_time(
            delta_labels, deltas, f"Delta hit@k of {name} across scoring runs", "scoring run", "delta hit@k"
        ),
        "preview": None
        if proposed is None
        else tailoring.preview_decision(session, tenant_id, name, proposed),
        "proposed": proposed,
        "tau_default": tailoring.get_settings(session, tenant_id).tau,
    }


def save_attribute(
    session: Session, caller: Caller, name: str, proposed: AttributeTailoringPut, slots: int | None
) -> None:
    """Save thresholds (audited, as PUT /v1/attributes/{name}/tailoring) and the catalog's slots."""
    tailoring.put_attribute_tailoring(session, caller, name, proposed)
    current = catalog.get_attribute(session, caller.tenant_id, name)
    if current.slots != slots:
        body = AttributePut.model_validate(
            {**current.model_dump(include={"kind", "description", "bins", "f", "u", "c"}), "slots": slots}
        )
        catalog.put_attribute(session, caller.tenant_id, name, body)


def runs_and_models(session: Session, tenant_id: int) -> dict[str, Any]:
    """Scoring and training runs, newest first, and the model versions with the one that serves."""
    return {
        "scoring": jobs.runs_page(session, tenant_id, tailoring.SCORING, None, 20).items,
        "training": jobs.runs_page(session, tenant_id, TRAINING, None, 20).items,
        "versions": recommendations.page_versions(session, tenant_id, None, 10).items,
        "active_runs": jobs.active_runs(session, tenant_id),
    }


def touchpoints(session: Session, tenant_id: int) -> dict[str, Any]:
    """Touchpoint policies, the attributes they may name and the value-tier distribution."""
    tiers = treatment.value_tiers(session, tenant_id)
    return {
        "touchpoints": treatment.list_touchpoints(session, tenant_id),
        "attributes": [a.name for a in catalog.list_attributes(session, tenant_id)],
        "tiers": tiers,
        "tiers_chart": count_bars(tiers, "Customers per value tier"),
    }


def save_touchpoint(session: Session, caller: Caller, name: str, form: dict[str, list[str]]) -> None:
    """Replace a touchpoint's policy from the form (audited through treatment's put_touchpoint)."""
    current = treatment.get_touchpoint(session, caller.tenant_id, name)
    rules = []
    for index in range(int(_one(form, "rule_count", "0"))):
        top = _one(form, f"rule_{index}_top_percent", "").strip()
        if not top:
            continue
        rules.append(
            {
                "top_percent": top,
                "priority": _one(form, f"rule_{index}_priority", "1"),
                "routing": _one(form, f"rule_{index}_routing", "standard") or "standard",
                "recognition": f"rule_{index}_recognition" in form,
            }
        )
    body = TouchpointPut.model_validate(
        {
            "journey_phase": _one(form, "journey_phase", current.journey_phase),
            "attributes": form.get("attributes", []),
            "mode": _one(form, "mode", current.mode.value),
            "rules": rules,
            "exit_ramp": current.exit_ramp.model_dump() if current.exit_ramp else None,
        }
    )
    treatment.put_touchpoint(session, caller.tenant_id, caller, name, body)


def _one(form: dict[str, list[str]], name: str, default: str) -> str:
    """A form field's first value, or a default."""
    return (form.get(name) or [default])[0]


def audit_page(session: Session, tenant_id: int, cursor: str | None, action: str | None) -> dict[str, Any]:
    """A page of the audit log, optionally of one action."""
    page = audit.page(session, tenant_id, cursor, AUDIT_PAGE, action or None)
    return {"records": page.items, "next_cursor": page.next_cursor, "action": action or ""}


@dataclass(frozen=True)
class MetricRow:
    """A goal or guardrail of an experiment: its figures and its relative uplift drawn as a bar."""

    figures: dict[str, Any]
    uplift: Measured


def experiments_page(session: Session, tenant_id: int) -> dict[str, Any]:
    """The tenant's experiments and what a new one may hold out."""
    return {
        "experiments": experiments.page(session, tenant_id, None, 100).items,
        "attributes": [a.name for a in catalog.list_attributes(session, tenant_id)],
        "touchpoint_names": [t.name for t in treatment.list_touchpoints(session, tenant_id)],
    }


def experiment_page(session: Session, caller: Caller, experiment_id: int) -> dict[str, Any]:
    """An experiment analysed now (as GET /v1/experiments/{id}/results): arms, SRM, metrics, verdict."""
    experiment = experiments.get(session, caller.tenant_id, experiment_id)
    figures = experiment_results.results(session, caller, caller.tenant_id, experiment_id)
    metrics = [figures["goal"], *figures["guardrails"]]
    spans = [_always_valid(m["relative"]) for m in metrics]
    axis = shared_domain(spans)
    rows = [
        MetricRow(m, Measured(span, side_of_zero(span), ci_bar(span, axis, f"{m['name']} relative uplift")))
        for m, span in zip(metrics, spans, strict=True)
    ]
    found = experiment_history.history(session, caller.tenant_id, experiment_id, HISTORY_POINTS)
    histories = [metric_history(m) for m in [found["goal"], *found["guardrails"]]]
    return {"experiment": experiment, "figures": figures, "rows": rows, "histories": histories}


@dataclass(frozen=True)
class HistoryPoint:
    """A metric as of the end of one day: its arm sizes and relative uplift, said in words too."""

    figures: dict[str, Any]
    span: Span | None
    side: str


@dataclass(frozen=True)
class MetricHistory:
    """A goal or guardrail day by day: its always-valid band drawn over time, and every point for a table."""

    figures: dict[str, Any]
    chart: Markup
    points: list[HistoryPoint]


def metric_history(metric: dict[str, Any]) -> MetricHistory:
    """A metric's relative uplift and always-valid CI over the days (the unmeasured days left out)."""
    spans = [_always_valid(p["relative"]) for p in metric["points"]]
    points = [
        HistoryPoint(p, span, side_of_zero(span)) for p, span in zip(metric["points"], spans, strict=True)
    ]
    drawn = [(p.figures["date"].isoformat(), p.span) for p in points if p.span is not None]
    chart = band_over_time(
        [label for label, _ in drawn],
        [span for _, span in drawn],
        f"{metric['name']}: relative uplift and its always-valid 95% CI by day",
        "end of day (UTC)",
        "relative uplift",
    )
    return MetricHistory(metric, chart, points)


def _always_valid(relative: dict[str, float | None]) -> Span | None:
    """A relative uplift's always-valid interval, when it is finite."""
    low, high, estimate = relative["always_valid_low"], relative["always_valid_high"], relative["estimate"]
    return None if low is None or high is None or estimate is None else Span(estimate, low, high)


def start_experiment(session: Session, caller: Caller, form: dict[str, list[str]]) -> int:
    """Start an experiment from the form (audited, as POST /v1/experiments); its id."""
    kind, target = _one(form, "scope_kind", ""), _one(form, "target", "").strip() or None
    scope: dict[str, Any] = {"kind": kind}
    if kind in ("attribute", "touchpoint"):
        scope[kind] = target
    body = ExperimentCreate.model_validate(
        {
            "name": _one(form, "name", "").strip(),
            "scope": scope,
            "holdout_share": _one(form, "holdout_share", ""),
            "goal": {
                "event_type": _one(form, "event_type", "").strip(),
                "measure": _one(form, "measure", "conversion"),
                "window_days": _one(form, "window_days", "14"),
            },
            "auto_stop": "auto_stop" in form,
        }
    )
    return experiments.create(session, caller, caller.tenant_id, body).id


def stop_experiment(session: Session, caller: Caller, experiment_id: int) -> None:
    """Stop a running experiment (audited, as POST /v1/experiments/{id}/stop)."""
    experiments.stop(session, caller, caller.tenant_id, experiment_id)
