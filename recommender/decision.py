"""Judging a score: the marketer's thresholds, tailor or default at which level, and why in words."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from recommender.stats import Interval
from recommender.value.score import AttributeScore
from recommender.value.slots import MAX_POPULATION_HIT
from recommender.value.sufficiency import insufficiency

MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class Thresholds:
    """The marketer's bar for one attribute, applied at read time by `decide`."""

    tau: float = 0.01
    f: float = 1.0
    u: float = 1.0
    c: float = 0.0
    min_customers: int = 30
    min_events_per_customer: float = 3
    mode: str = "auto"

    def __post_init__(self) -> None:
        """Refuse an unknown mode."""
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")

    def value(self, delta_hit: Interval) -> Interval:
        """V_A = f * delta_hit@k * u - c, its bounds taken from the delta hit@k bounds."""
        scale = self.f * self.u
        bounds = sorted((scale * delta_hit.low - self.c, scale * delta_hit.high - self.c))
        return Interval(scale * delta_hit.estimate - self.c, bounds[0], bounds[1])

    def passes(self, lift: Interval | None, delta_hit: Interval | None) -> bool:
        """Lift CI above 0 and the lower bound of V_A at least tau."""
        if lift is None or delta_hit is None:
            return False
        return lift.low > 0 and self.value(delta_hit).low >= self.tau


@dataclass(frozen=True)
class Decision:
    """Whether to tailor an attribute, at which experience level, and why."""

    decision: str
    level: str
    value: Interval | None
    model: str | None
    passing_models: tuple[str, ...]
    override: str | None
    explanation: str


def decide(
    score: AttributeScore, thresholds: Thresholds | None = None, attribute: str = "attribute"
) -> Decision:
    """Tailor iff a model's lift CI is above 0 and its V_A lower bound reaches tau (pure, cheap)."""
    # Levels: mass (neither model passes); one-to-one (the individual model passes and beats the
    # segment model: the difference's lift CI above 0 and f*u*(delta hit lower bound) >= tau);
    # otherwise niche (at most one segment favours a value other than the population's top) or
    # targeted (several). A passing segment model alone also means tailor, at segment level.
    thresholds = thresholds or Thresholds()
    reason = _too_little_data(score, thresholds)
    if reason is not None:
        auto = _undetermined(f"Too little data to judge {attribute}: {reason}")
    elif (blind := _blind_comparison(score)) is not None:
        auto = _undetermined(f"No comparison can judge {attribute}: {blind}")
    else:
        auto = _measured_decision(score, thresholds, attribute)
    return _apply_mode(auto, thresholds.mode)


def _undetermined(why: str) -> Decision:
    """Keep the default without a verdict, saying why."""
    return Decision(
        "default",
        "undetermined",
        None,
        None,
        (),
        None,
        f"{why}, so the default is kept and nothing is guessed",
    )


def _blind_comparison(score: AttributeScore) -> str | None:
    """Why hit@k could not have come out otherwise (the population's top k holds ~all choices), or None."""
    if not score.discriminates:
        return score.k_reason
    popular = score.population_hit_rate
    if popular is not None and popular >= MAX_POPULATION_HIT:
        return (
            f"the bestseller list's top {score.k} already holds {popular:.0%} of held-out choices, "
            "which leaves no room to show that a prediction does better (a new scoring run judges "
            "it at fewer slots)"
        )
    return None


def _too_little_data(score: AttributeScore, thresholds: Thresholds) -> str | None:
    """Why the score cannot support a verdict under these thresholds, or None."""
    if not score.sufficient_data and score.customers == 0 and score.insufficient_reason:
        return score.insufficient_reason
    reason = insufficiency(
        score.customers,
        score.events_per_customer,
        score.evaluated_customers,
        thresholds.min_customers,
        thresholds.min_events_per_customer,
    )
    if reason is None and (score.lift is None or score.delta_hit is None):
        return "no customer has a held-out event to test predictions on"
    return reason


def _measured_decision(score: AttributeScore, thresholds: Thresholds, attribute: str) -> Decision:
    """The automatic decision for a score with enough data."""
    individual = thresholds.passes(score.lift, score.delta_hit)
    segment = bool(score.n_segments and score.n_segments > 1) and thresholds.passes(
        score.segment_lift, score.segment_delta_hit
    )
    passing = tuple(name for name, ok in (("individual", individual), ("segment", segment)) if ok)
    if not passing:
        level, model = "mass", "individual"
    elif individual and _beats_segments(score, thresholds):
        level, model = "one-to-one", "individual"
    else:
        level = "targeted" if (score.segments_off_default or 0) >= 2 else "niche"
        model = "segment" if segment else "individual"
    delta = score.delta_hit if model == "individual" else score.segment_delta_hit
    value = thresholds.value(delta) if delta is not None else None
    return Decision(
        decision="default" if level == "mass" else "tailor",
        level=level,
        value=value,
        model=model,
        passing_models=passing,
        override=None,
        explanation=_explain(score, thresholds, attribute, level, value)
        + (f"; {score.k_reason}" if score.k_reason else ""),
    )


def _beats_segments(score: AttributeScore, thresholds: Thresholds) -> bool:
    """Whether one-to-one adds to the segment model (trivially so when none was fitted)."""
    lift, delta = score.individual_over_segment_lift, score.individual_over_segment_delta_hit
    if lift is None or delta is None:
        return True
    gain = Thresholds(tau=thresholds.tau, f=thresholds.f, u=thresholds.u)
    return gain.passes(lift, delta)


def _apply_mode(auto: Decision, mode: str) -> Decision:
    """Let an always/never override set the decision, keeping the measured level."""
    if mode == "auto":
        return replace(auto, explanation=f"{auto.explanation}.")
    action = "tailors it anyway" if mode == "always" else "keeps the default anyway"
    return replace(
        auto,
        decision="tailor" if mode == "always" else "default",
        override=mode,
        explanation=f"{auto.explanation}; the marketer's '{mode}' override {action}.",
    )


def _explain(
    score: AttributeScore, thresholds: Thresholds, attribute: str, level: str, value: Interval | None
) -> str:
    """One plain-English sentence with the numbers behind a measured decision."""
    segment_level = level in ("niche", "targeted")
    hit = score.segment_hit_rate if segment_level else score.hit_rate
    comparison = _comparison(hit, score.population_hit_rate, score.k)
    worth = (
        f"worth at least {value.low:+.3f} hits per opportunity against a bar of {thresholds.tau:g}"
        if value is not None and math.isfinite(value.low)
        else "worth an unknown amount"
    )
    if segment_level:
        segments = score.n_segments or 0
        favour = score.segments_off_default or 0
        verb = "favours" if favour == 1 else "favour"
        return (
            f"{attribute.capitalize()} choices split into {segments} customer segments, {favour} "
            f"of which {verb} something other than the bestseller: serving each segment its own "
            f"list predicts the next choice {comparison}, {worth}, while individual histories add "
            f"no reliable gain, so it is tailored per segment ({level})"
        )
    predicts = f"knowing a customer's past {attribute} choices predicts the next one {comparison}"
    opening = f"Customers' {attribute} choices {_polarization(score.phi)}: {predicts}, {worth}"
    if level == "one-to-one":
        return f"{opening}, so it is tailored to each customer (one-to-one)"
    return f"{opening}, so everyone gets the same default (mass)"


def _comparison(hit: float | None, popular: float | None, k: int) -> str:
    """'3.2x better than the bestseller list (hit@3 64% vs 20%)' or the like."""
    if hit is None or popular is None:
        return "with no measurable difference from the bestseller list"
    rates = f"(hit@{k} {hit:.0%} vs {popular:.0%})"
    if popular <= 0:
        return f"better than the bestseller list {rates}" if hit > 0 else f"no better {rates}"
    ratio = hit / popular
    if ratio >= 1.05:
        return f"{ratio:.1f}x better than the bestseller list {rates}"
    if ratio > 0.95:
        return f"no better than the bestseller list {rates}"
    return f"worse than the bestseller list {rates}"


def _polarization(phi: Interval | None) -> str:
    """How strongly customers differ, in words, with phi."""
    if phi is None:
        return "cannot be compared yet"
    words = (
        "are alike"
        if phi.estimate < 0.05
        else "differ a little"
        if phi.estimate < 0.15
        else "differ clearly"
        if phi.estimate < 0.4
        else "differ strongly"
    )
    return f"{words} (phi {phi.estimate:.2f}, 95% CI {phi.low:.2f} to {phi.high:.2f})"
