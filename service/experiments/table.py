"""The results of an experiment as a plain-text table (for the CLI)."""

from __future__ import annotations

from typing import Any

from service.experiments.results import percent


def _number(value: float | None, digits: int = 4) -> str:
    """A figure, or n/a."""
    return "n/a" if value is None else f"{value:.{digits}g}"


def _interval(uplift: dict[str, Any], relative: bool) -> str:
    """estimate [low, high] av [low, high]."""
    show = percent if relative else _number
    return (
        f"{show(uplift['estimate'])} [{show(uplift['low'])}, {show(uplift['high'])}] "
        f"always-valid [{show(uplift['always_valid_low'])}, {show(uplift['always_valid_high'])}]"
    )


def metric_lines(metric: dict[str, Any]) -> list[str]:
    """One metric's block."""
    cuped = metric["cuped"]
    narrowed = (
        ""
        if cuped["ci_narrowed_by"] is None
        else f", CUPED narrowed the CI by {percent(cuped['ci_narrowed_by'])}"
    )
    power = metric["power"] or {}
    lines = [
        f"{metric['name']:<28} {metric['event_type']} ({metric['measure']}, {metric['window_days']} days)"
        + (f", must not {metric['must_not']}" if metric["must_not"] else ""),
        f"  treatment n={metric['treatment']['n']:<8} mean={_number(metric['treatment']['mean'])}",
        f"  holdout   n={metric['holdout']['n']:<8} mean={_number(metric['holdout']['mean'])}",
        f"  absolute  {_interval(metric['absolute'], False)}",
        f"  relative  {_interval(metric['relative'], True)}{narrowed}",
    ]
    if power:
        lines.append(
            f"  power     MDE {percent(power['minimum_detectable_relative'])} now; "
            f"{power['customers_still_needed']} more customers for {percent(power['target_relative_effect'])}"
        )
    return lines


def results_table(found: dict[str, Any]) -> str:
    """The whole results table: goal, guardrails, SRM, verdict, prediction."""
    lines = [f"experiment {found['experiment_id']} {found['name']!r} ({found['status']})"]
    lines += metric_lines(found["goal"])
    for guardrail in found["guardrails"]:
        lines += metric_lines(guardrail)
    srm = found["srm"]
    lines.append(f"sample ratio p={_number(srm['p_value'])}{' MISMATCH' if srm['flagged'] else ''}")
    lines.append(f"verdict   {found['verdict']}: {found['reason']}")
    if found["note"]:
        lines.append(f"          {found['note']}")
    predicted = found.get("predicted")
    if predicted and predicted.get("scored"):
        value, delta = predicted.get("value") or {}, predicted.get("delta_hit") or {}
        lines.append(
            f"predicted V_A={_number(value.get('estimate'))} delta hit@{predicted['k']}="
            f"{_number(delta.get('estimate'))} ({predicted['decision']})"
        )
    return "\n".join(lines)
