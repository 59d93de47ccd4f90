"""Customer-level bootstrap intervals shared by the scorer and the recommendation gate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_ROUNDS = 200
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided 95% interval."""

    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """The interval as a plain mapping."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def poisson_weight_chunks(
    n: int, rounds: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """Yield Poisson(1) resampling weights, shape (rounds_in_chunk, n), in memory-bounded chunks."""
    per_chunk = max(1, min(rounds, _CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < rounds:
        size = min(per_chunk, rounds - done)
        yield rng.poisson(1.0, size=(size, n)).astype(np.float32)
        done += size


def percentile_interval(estimate: float, draws: np.ndarray, level: float = 0.95) -> Interval:
    """A percentile interval from bootstrap draws (non-finite draws ignored)."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return Interval(estimate, float("nan"), float("nan"))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return Interval(float(estimate), float(low), float(high))


def bootstrap_ratio(
    numerator: np.ndarray,
    denominator: np.ndarray,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> Interval:
    """Ratio of sums over customers with a Poisson(1) customer bootstrap interval."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    total = denominator.sum()
    estimate = float(numerator.sum() / total) if total > 0 else float("nan")
    rng = np.random.default_rng(seed)
    draws = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for weights in poisson_weight_chunks(numerator.size, rounds, rng):
            draws.append((weights @ numerator) / (weights @ denominator))
    return percentile_interval(estimate, np.concatenate(draws) if draws else np.empty(0))


def bootstrap_mean(
    per_customer_sum: np.ndarray,
    per_customer_count: np.ndarray | None = None,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> Interval:
    """Mean per event (or per customer when counts are omitted) with a customer bootstrap."""
    counts = (
        np.ones_like(per_customer_sum, dtype=np.float64)
        if per_customer_count is None
        else per_customer_count
    )
    return bootstrap_ratio(per_customer_sum, counts, rounds=rounds, seed=seed)
