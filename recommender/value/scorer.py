"""Scoring one attribute: polarization, held-out lift and delta hit@k at its slots, with 95% CIs."""

# Conventions, where docs/scorer.md leaves a choice:
# - Population shares pi are smoothed with `prior_pseudo_events` (default one event) spread evenly
#   over the values, so a held-out value nobody chose in training gets a small, finite share.
#   Scoring uses training shares; the shares stored for serving come from all events.
# - The individual model predicts p_iv = (x_iv + lambda*s_iv + S*pi_v) / (n_i + lambda*|s_i| + S);
#   S and lambda are chosen by 2-fold cross-fitting over evaluated customers: each half is
#   evaluated with the values that maximize the held-out log-likelihood of the other half.
# - The segment model is the segment-level experience: customer i gets m_i, the posterior-weighted
#   class distribution of a latent-class mixture (recommender.segments) fitted on training counts.
#   It does not add the customer's own counts, so "individual beats segment" asks whether one-to-one
#   tailoring adds something beyond serving each customer their segment's list.
# - Counts may be weighted; "events" are then weight totals, and pair counting uses them as counts.
# - hit@k is judged at k = the attribute's slots, lowered where the population's top k already
#   holds nearly every held-out choice (recommender.value.slots).

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender.segments import Mixture, MixtureSettings, fit_mixture
from recommender.value.counts import AttributeCounts
from recommender.value.intervals import intervals
from recommender.value.outcomes import (
    evaluated_counts,
    individual_outcome,
    population_outcome,
    segment_outcome,
)
from recommender.value.prepared import Prepared, prepare, smoothed_shares
from recommender.value.score import AttributeScore, SegmentProfile
from recommender.value.shrinkage import cross_fit
from recommender.value.slots import MAX_POPULATION_HIT, default_slots, judged_k, population_hit_by_k
from recommender.value.sufficiency import insufficiency


@dataclass(frozen=True)
class ScorerSettings:
    """How an attribute is scored; `k` is the slots of an attribute that states none (None: by rule)."""

    k: int | None = None
    rounds: int = 200
    seed: int = 0
    segments: bool = True
    max_segments: int = 6
    min_customers: int = 30
    min_events_per_customer: float = 3
    serving_top: int = 50
    prior_pseudo_events: float = 1.0
    max_population_hit: float = MAX_POPULATION_HIT
    shrinkage_grid: tuple[float, ...] = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 300, 1e3, 3e3, 1e4)
    stated_weight_grid: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0)
    mixture_columns: int = 201
    mixture_sample: int = 20_000
    mixture_restarts: int = 2

    def mixture_settings(self) -> MixtureSettings:
        """Settings of the segment mixture."""
        return MixtureSettings(
            max_segments=self.max_segments,
            max_columns=self.mixture_columns,
            sample_customers=self.mixture_sample,
            restarts=self.mixture_restarts,
            seed=self.seed,
        )

    def slots_for(self, n_values: int, slots: int | None) -> int:
        """The attribute's own slots, else the tenant-wide k, else the default from its number of values."""
        chosen = slots if slots is not None else self.k
        if chosen is None:
            return default_slots(n_values)
        if chosen < 1:
            raise ValueError(f"slots must be at least 1, not {chosen}")
        return chosen


def score_attribute(
    counts: AttributeCounts, settings: ScorerSettings | None = None, slots: int | None = None
) -> AttributeScore:
    """Measure polarization, held-out lift and delta hit@k (k = the attribute's slots) with 95% CIs."""
    settings = settings or ScorerSettings()
    data = prepare(counts, settings.prior_pseudo_events)
    wanted = settings.slots_for(data.n_values, slots)
    judged = judged_k(
        population_hit_by_k(data.held_values, data.held_weight, data.train_shares, wanted),
        wanted,
        settings.max_population_hit,
    )
    shrinkage = cross_fit(data, settings.shrinkage_grid, settings.stated_weight_grid, settings.seed)
    counts_evaluated = evaluated_counts(data, shrinkage.stated_weight)
    individual = individual_outcome(data, counts_evaluated, shrinkage, judged.k)
    population = population_outcome(data, judged.k)
    mixture = _fit_segments(data, settings)
    segment = segment_outcome(data, counts_evaluated, mixture, judged.k) if mixture else None
    measured = intervals(data, individual, population, segment, settings.rounds, settings.seed)
    evaluated = bool(data.evaluated.size)
    return AttributeScore(
        k=judged.k,
        n_values=data.n_values,
        **_usage(data, settings),
        **measured,
        **_segment_summary(mixture, data.train_shares, settings.serving_top),
        shrinkage=shrinkage.serving_strength if evaluated else None,
        shrinkage_folds=shrinkage.fold_strength if evaluated else None,
        stated_weight=shrinkage.serving_stated_weight,
        stated_weight_folds=shrinkage.fold_stated_weight if evaluated else None,
        population_shares=_top_shares(
            smoothed_shares(data.full, settings.prior_pseudo_events), settings.serving_top
        ),
        slots=wanted,
        k_reason=judged.reason,
        discriminates=judged.discriminates,
    )


def _top_shares(shares: np.ndarray, top: int) -> dict[int, float]:
    """The `top` largest shares as value -> share, largest first."""
    order = np.argsort(-shares, kind="stable")[:top]
    return {int(value): float(shares[value]) for value in order}


def _usage(data: Prepared, settings: ScorerSettings) -> dict[str, Any]:
    """Customers, events and whether they suffice for a verdict."""
    per_customer = np.asarray(data.full.sum(axis=1)).ravel()
    active = per_customer[per_customer > 0]
    median = float(np.median(active)) if active.size else 0.0
    evaluated = int(data.evaluated.size)
    reason = insufficiency(
        active.size, median, evaluated, settings.min_customers, settings.min_events_per_customer
    )
    return {
        "customers": int(active.size),
        "events": float(active.sum()),
        "events_per_customer": median,
        "evaluated_customers": evaluated,
        "held_out_events": float(data.held_weight.sum()),
        "sufficient_data": reason is None,
        "insufficient_reason": reason,
    }


def _fit_segments(data: Prepared, settings: ScorerSettings) -> Mixture | None:
    """The segment mixture on training counts, or None when disabled or nothing is evaluated."""
    if not settings.segments or data.evaluated.size == 0:
        return None
    return fit_mixture(data.train, data.train_shares, settings.mixture_settings())


def _segment_summary(mixture: Mixture | None, shares: np.ndarray, top: int) -> dict[str, Any]:
    """G, each segment's share and favourite values, and how many favour a non-default value."""
    if mixture is None:
        return {"n_segments": None, "segments": (), "segments_off_default": None}
    own = mixture.columns.own_values
    profiles = tuple(
        SegmentProfile(
            share=float(weight),
            top_value=int(own[np.argmax(row)]),
            top_shares={int(own[j]): float(row[j]) for j in np.argsort(-row, kind="stable")[:top]},
        )
        for weight, row in zip(mixture.weights, mixture.own_value_shares(), strict=True)
    )
    default = int(np.argmax(shares))
    off_default = sum(p.top_value != default for p in profiles) if len(profiles) > 1 else 0
    return {"n_segments": len(profiles), "segments": profiles, "segments_off_default": off_default}
