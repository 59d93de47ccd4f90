"""Offline quality on MovieLens-100k: popularity vs raw LightFM vs the service path, and the gate.

Run from the project root: `.venv/bin/python bench/quality.py` (downloads the recbole wheel once
into .cache/). Every rating counts as an interaction; train items are excluded from rankings.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.datasets import EventLog, load_movielens_100k
from recommender.evaluation import (
    GateDecision,
    RankingMetrics,
    TimeSplit,
    choose_strategy,
    held_out_items,
    items_by_customer,
    ranking_metrics,
    split_global,
    split_per_customer,
)
from recommender.model import IdMap
from recommender.ranking import ItemFilter, Recommender, ServingPath, build_popularity
from recommender.stats import Interval
from service.config import Settings
from service.recommendations.cache import Snapshot, build_snapshot
from service.recommendations.reads_repository import CustomerRead
from service.recommendations.repository import CatalogState, TrainingEvents
from service.recommendations.serving import RecommendationQuery, recommend
from service.recommendations.training import TrainingData, fit_serving, hyperparameters_of

T = TypeVar("T")
K = 10
HYPERPARAMETERS = hyperparameters_of(Settings())
Recommendations = dict[str, Sequence[str]]


def popularity_recommendations(log: EventLog, split: TimeSplit, customers: Sequence[str]) -> Recommendations:
    """Most popular training items each customer has not seen."""
    train = split.train
    items = IdMap.of(log.item_ids[train])
    recommender = Recommender(build_popularity(items, log.customer_ids[train], log.item_ids[train]))
    seen = items_by_customer(log.customer_ids, log.item_ids, train)
    return {
        c: recommender.recommend(
            K, start=ServingPath.POPULAR, item_filter=ItemFilter(seen=seen.get(c, frozenset()))
        ).item_ids
        for c in customers
    }


def raw_lightfm_recommendations(log: EventLog, split: TimeSplit, customers: Sequence[str]) -> Recommendations:
    """LightFM used directly on the whole user/item universe; cold users keep untrained vectors."""
    from lightfm import LightFM

    user_ids, user_index = np.unique(log.customer_ids, return_inverse=True)
    item_ids, item_index = np.unique(log.item_ids, return_inverse=True)
    train = split.train
    interactions = sp.coo_matrix(
        (np.ones(int(train.sum()), dtype=np.float32), (user_index[train], item_index[train])),
        shape=(user_ids.size, item_ids.size),
    ).tocsr()
    interactions.sum_duplicates()
    interactions.data[:] = 1.0
    model = LightFM(
        no_components=HYPERPARAMETERS.no_components,
        loss=HYPERPARAMETERS.loss,
        learning_rate=HYPERPARAMETERS.learning_rate,
        random_state=HYPERPARAMETERS.random_state,
    )
    model.fit(interactions.tocoo(), epochs=HYPERPARAMETERS.epochs, num_threads=1)
    positions = {u: i for i, u in enumerate(user_ids.tolist())}
    every_item = np.arange(item_ids.size, dtype=np.int32)
    recommended: Recommendations = {}
    for customer in customers:
        row = positions[customer]
        scores = model.predict(row, every_item, num_threads=1)
        scores[interactions[row].indices] = -np.inf
        recommended[customer] = item_ids[np.argsort(-scores, kind="stable")[:K]].tolist()
    return recommended


def service_recommendations(
    log: EventLog,
    split: TimeSplit,
    customers: Sequence[str],
    gate: GateDecision,
    item_features: Mapping[str, list[str]] | None = None,
) -> tuple[Recommendations, dict[str, int]]:
    """What the API serves: the training job's fit_serving, then serving.recommend as a request would."""
    train = split.train
    data = TrainingData(
        events=TrainingEvents(
            log.customer_ids[train], log.item_ids[train], log.weights[train], log.times[train]
        ),
        item_features=dict(item_features or {}),
        user_features={},
        segments=log.customer_segments,
    )
    model, popularity = fit_serving(data, HYPERPARAMETERS)
    catalog = CatalogState(inactive=[], values=[])
    kept_lists = Settings().serving_kept_lists  # the kept ranked lists, as a serving worker has them
    snapshot = build_snapshot(0, gate.to_dict(), model, popularity, catalog, kept_lists=kept_lists)
    answers = served_answers(snapshot, log, split, customers)
    recommended: Recommendations = {c: [item["item_id"] for item in a["items"]] for c, a in answers.items()}
    return recommended, dict(Counter(answer["strategy"] for answer in answers.values()))


def served_answers(
    snapshot: Snapshot, log: EventLog, split: TimeSplit, customers: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """serving.recommend's answer for each customer, read as a request would read them after training."""
    seen = items_by_customer(log.customer_ids, log.item_ids, split.train)
    query = RecommendationQuery(k=K)
    answers = {}
    for customer in customers:
        read = CustomerRead(
            found=True,
            consent=True,
            segment=log.customer_segments.get(customer),
            seen=seen.get(customer, frozenset()),
            preferences={},
            deactivated=frozenset(),
        )
        answers[customer] = recommend(snapshot, customer, read, query)
    return answers


def timed(run: Callable[[], T]) -> tuple[T, float]:
    """The result of run and its wall-clock seconds."""
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def report_split(
    title: str, log: EventLog, split: TimeSplit, item_features: Mapping[str, list[str]]
) -> dict[str, RankingMetrics]:
    """Print the metrics table and the gate's choice for one split."""
    relevant = held_out_items(log.customer_ids, log.item_ids, split)
    customers = sorted(relevant)
    warm = set(log.customer_ids[split.train].tolist())
    decision = choose_strategy(
        log.customer_ids,
        log.item_ids,
        log.times,
        log.weights,
        customer_segments=log.customer_segments,
        hyperparameters=HYPERPARAMETERS,
        split=split,
        k=K,
    )
    popular, popular_seconds = timed(lambda: popularity_recommendations(log, split, customers))
    raw, raw_seconds = timed(lambda: raw_lightfm_recommendations(log, split, customers))
    (service, paths), service_seconds = timed(
        lambda: service_recommendations(log, split, customers, decision)
    )
    (featured, _), featured_seconds = timed(
        lambda: service_recommendations(log, split, customers, decision, item_features)
    )
    runs = [
        ("popularity", popular, popular_seconds),
        ("lightfm (raw)", raw, raw_seconds),
        ("service", service, service_seconds),
        ("service + genre/decade features", featured, featured_seconds),
    ]
    print(f"\n== {title}")
    print(
        f"customers with held-out items: {len(customers)} "
        f"(with training events {len(warm & set(customers))}, cold {len(set(customers) - warm)}); "
        f"held-out items: {sum(len(v) for v in relevant.values())}"
    )
    print(f"{'ranker':34}{'P@10':>8}{'R@10':>8}{'NDCG@10':>9}{'seconds':>9}")
    metrics = {}
    for label, recommended, seconds in runs:
        metrics[label] = ranking_metrics(recommended, relevant, K)
        m = metrics[label]
        print(f"{label:34}{m.precision:8.4f}{m.recall:8.4f}{m.ndcg:9.4f}{seconds:9.1f}")
    print(f"service strategies served: {paths}")
    print(f"gate (segments = occupation, k={K}, tau={decision.tau:g}): {decision.strategy}")
    print(f"  customers evaluated {decision.customers_evaluated}, held-out items {decision.held_out_items}")
    for name, interval in decision.hit_rates.items():
        print(f"  hit@{K} {name:9} {_interval(interval)}")
    for name, comparison in decision.comparisons.items():
        print(
            f"  {name:20} lift {_interval(comparison.lift_bits)} bits, "
            f"delta hit@{K} {_interval(comparison.delta_hit)}, beats={comparison.beats}"
        )
    print(f"  reason: {decision.reason}")
    return metrics


def _interval(interval: Interval) -> str:
    return f"{interval.estimate:.4f} [{interval.low:.4f}, {interval.high:.4f}]"


def main() -> None:
    """Print both tables, the gate's choices and the RESULT line (per-customer split)."""
    movielens = load_movielens_100k()
    log = movielens.events()
    features = movielens.item_features()
    per_customer = report_split(
        "per-customer time split: each customer's latest 20% of events held out",
        log,
        split_per_customer(log.customer_ids, log.times),
        features,
    )
    report_split(
        "global time cut: the latest 20% of all events held out",
        log,
        split_global(log.times),
        features,
    )
    service = per_customer["service"].precision
    lightfm = per_customer["lightfm (raw)"].precision
    popular = per_customer["popularity"].precision
    print(
        f"RESULT service_p10={service:.4f} lightfm_p10={lightfm:.4f} popular_p10={popular:.4f} "
        f"service_over_lightfm={service / lightfm:.3f} service_over_popular={service / popular:.3f}"
    )


if __name__ == "__main__":
    main()
