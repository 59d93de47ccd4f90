"""The priority rule of a touchpoint for one customer: pure, with the reason for what it decides."""

from __future__ import annotations

from dataclasses import dataclass

from service.treatment.schemas import TreatmentMode, TreatmentRule

STANDARD = "standard"
EPSILON = 1e-9


@dataclass(frozen=True)
class Priority:
    """Queue priority (None: standard), routing, recognition, and why."""

    level: int | None
    routing: str
    recognition: bool
    reason: str


def _standard(reason: str) -> Priority:
    """The standard treatment."""
    return Priority(None, STANDARD, False, reason)


def _standing(top_percent: float) -> str:
    """Where the customer stands by value."""
    return f"Value percentile {100 - top_percent:.2f}, in the top {top_percent:.2f}%"


def _why_rules_apply(mode: TreatmentMode, pays: bool | None) -> str:
    """Why the rules are applied at all."""
    if mode is TreatmentMode.always:
        return "mode always"
    if pays:
        return "mode auto, and measured evidence says it lifts outcomes here"
    return "mode auto, no measured evidence yet: the rules apply until a holdout shows they do not pay"


def priority_for(
    rules: list[TreatmentRule],
    mode: TreatmentMode,
    pays: bool | None,
    profiling: bool,
    top_percent: float | None,
) -> Priority:
    """The first rule whose tier holds the customer, unless the mode, the evidence or consent rule it out."""
    if mode is TreatmentMode.never:
        return _standard("No priority treatment at this touchpoint (mode never): standard treatment.")
    if mode is TreatmentMode.auto and pays is False:
        return _standard(
            "Measured evidence says priority treatment does not lift outcomes here (mode auto): "
            "standard treatment."
        )
    if not profiling:
        return _standard(
            "No profiling consent: no value-based treatment, so standard priority and no recognition "
            "(the engagement mode and the exit ramp still apply)."
        )
    if top_percent is None:
        return _standard("No value score for this customer yet (the next scoring run computes it): standard.")
    for rule in rules:
        if top_percent <= rule.top_percent + EPSILON:
            recognised = ", recognised" if rule.recognition else ""
            return Priority(
                rule.priority,
                rule.routing,
                rule.recognition,
                f"{_standing(top_percent)}; the rule for the top {rule.top_percent:g}% gives "
                f"priority {rule.priority}, routing {rule.routing}{recognised} "
                f"({_why_rules_apply(mode, pays)}).",
            )
    widest = f"the widest rule covers the top {rules[-1].top_percent:g}%" if rules else "there are no rules"
    return _standard(f"{_standing(top_percent)}; {widest}: standard treatment.")
