"""Speed of the personalization-value scorer on one bookstore-like attribute, single thread.

Run from the project root: `.venv/bin/python bench/scorer.py` (options: --events, --customers,
--values). It generates 1,000,000 genre choices of 100,000 customers over 30 genres, then times
aggregating the events into sparse train/test counts (the floor), scoring with the individual
model only, and scoring with the segment mixture too. The last line is
`RESULT individual_s=... segments_s=... aggregate_s=...`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.decision import decide
from recommender.value.counts import AttributeCounts, split_latest
from recommender.value.scorer import ScorerSettings, score_attribute

Result = TypeVar("Result")


def genre_events(
    events: int, customers: int, values: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer, genre and time of each event; customers keep to a few genres of their own."""
    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(values, 2.0))
    preferences = rng.dirichlet(popularity * 3.0, size=customers)
    customer = rng.integers(0, customers, size=events)
    chosen = np.empty(events, dtype=np.int64)
    for start in range(0, events, 100_000):
        who = customer[start : start + 100_000]
        cumulative = np.cumsum(preferences[who], axis=1)
        draws = (rng.random(who.size)[:, None] > cumulative).sum(axis=1)
        chosen[start : start + 100_000] = np.minimum(draws, values - 1)
    return customer, chosen, rng.random(events)


def timed(label: str, action: Callable[[], Result]) -> tuple[Result, float]:
    """Run an action once and print its wall time."""
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.3f} s")
    return result, seconds


def report(label: str, counts: AttributeCounts, settings: ScorerSettings) -> float:
    """Score once, print the timing and the headline figures; return the seconds."""
    score, seconds = timed(label, lambda: score_attribute(counts, settings))
    decision = decide(score, attribute="genre")
    print(f"  phi {score.phi}\n  lift {score.lift}\n  delta_hit {score.delta_hit}")
    print(f"  segments {score.n_segments}, segment delta_hit {score.segment_delta_hit}")
    print(f"  decision {decision.decision} / {decision.level}: {decision.explanation}")
    return seconds


def main() -> None:
    """Generate the events, time the three steps and print the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--values", type=int, default=30)
    arguments = parser.parse_args()
    customer, value, when = genre_events(arguments.events, arguments.customers, arguments.values)
    weight = np.ones(customer.size)
    shape = (arguments.customers, arguments.values)
    print(f"{arguments.events:,} events, {arguments.customers:,} customers, {arguments.values} values")
    with threadpool_limits(1):
        counts, aggregate = timed(
            "aggregate (split_latest)", lambda: split_latest(customer, value, weight, when, *shape)
        )
        individual = report("score, individual only", counts, ScorerSettings(segments=False))
        segments = report("score, with segments", counts, ScorerSettings())
    print(f"RESULT individual_s={individual:.3f} segments_s={segments:.3f} aggregate_s={aggregate:.3f}")


if __name__ == "__main__":
    main()
