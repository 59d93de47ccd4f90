"""Polarization phi by pair counting and joint customer-bootstrap intervals of the score's metrics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.stats import Interval, bootstrap_column_totals, percentile_interval
from recommender.value.outcomes import ModelOutcome
from recommender.value.prepared import Prepared
from recommender.value.sparse import row_of_entries

_MODEL_COLUMNS = ("held", "lift", "hits", "popular_hits", "segment_lift", "segment_hits")


def _phi_columns(full: sp.csr_matrix) -> np.ndarray:
    """Per customer: same-value pairs, pairs, sum of squared counts, events, events squared."""
    rows, counts = row_of_entries(full), full.data
    events = np.bincount(rows, weights=counts, minlength=full.shape[0])
    return np.column_stack(
        [
            np.bincount(rows, weights=counts * (counts - 1), minlength=full.shape[0]),
            events * (events - 1),
            np.bincount(rows, weights=counts**2, minlength=full.shape[0]),
            events,
            events**2,
        ]
    )


def _phi(stats: np.ndarray, value_totals: np.ndarray) -> np.ndarray:
    """phi = (S_w - S_b) / (1 - S_b) from summed pair statistics (last axis) and value totals."""
    same_value_pairs, pairs, squares, events, events_squared = np.moveaxis(stats, -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        within = same_value_pairs / pairs
        between = ((value_totals**2).sum(axis=-1) - squares) / (events**2 - events_squared)
        return np.where(between < 1, (within - between) / (1 - between), 0.0)


def intervals(
    data: Prepared,
    individual: ModelOutcome,
    population: ModelOutcome,
    segment: ModelOutcome | None,
    rounds: int,
    seed: int,
) -> dict[str, Any]:
    """Point estimates and joint customer-bootstrap intervals of all the score's metrics."""
    phi_stats = _phi_columns(data.full)
    per_customer = np.zeros((data.full.shape[0], len(_MODEL_COLUMNS)))
    held = np.bincount(data.held_rows, weights=data.held_weight, minlength=data.evaluated.size)
    outcome = segment or population
    per_customer[data.evaluated] = np.column_stack(
        [held, individual.lift, individual.hits, population.hits, outcome.lift, outcome.hits]
    )
    stats = np.hstack([phi_stats, per_customer])
    stat_draws, value_draws = bootstrap_column_totals([stats, data.full], rounds=rounds, seed=seed)
    totals = stats.sum(axis=0)
    phi = percentile_interval(
        float(_phi(totals[:5], np.asarray(data.full.sum(axis=0)).ravel())),
        _phi(stat_draws[:, :5], value_draws),
    )
    return {
        "phi": phi if math.isfinite(phi.estimate) else None,
        **_model_intervals(totals[5:], stat_draws[:, 5:], with_segments=segment is not None),
    }


def _model_intervals(totals: np.ndarray, draws: np.ndarray, with_segments: bool) -> dict[str, Any]:
    """Lift and delta hit@k intervals per held-out event, from summed per-customer outcomes."""
    total = dict(zip(_MODEL_COLUMNS, totals, strict=True))
    drawn = dict(zip(_MODEL_COLUMNS, draws.T, strict=True))
    if total["held"] <= 0:
        return {"lift": None, "delta_hit": None, "hit_rate": None, "population_hit_rate": None}

    def per_event(*terms: tuple[float, str]) -> Interval:
        """Interval of a signed sum of columns per held-out event."""
        estimate = sum(sign * total[name] for sign, name in terms) / total["held"]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = sum(sign * drawn[name] for sign, name in terms) / drawn["held"]
        return percentile_interval(float(estimate), np.asarray(values))

    result: dict[str, Any] = {
        "lift": per_event((1, "lift")),
        "delta_hit": per_event((1, "hits"), (-1, "popular_hits")),
        "hit_rate": float(total["hits"] / total["held"]),
        "population_hit_rate": float(total["popular_hits"] / total["held"]),
    }
    if with_segments:
        result |= {
            "segment_lift": per_event((1, "segment_lift")),
            "segment_delta_hit": per_event((1, "segment_hits"), (-1, "popular_hits")),
            "segment_hit_rate": float(total["segment_hits"] / total["held"]),
            "individual_over_segment_lift": per_event((1, "lift"), (-1, "segment_lift")),
            "individual_over_segment_delta_hit": per_event((1, "hits"), (-1, "segment_hits")),
        }
    return result
