"""Tests for time splits, ranking metrics and the recommendation gate."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from recommender.datasets import EventLog, bookstore_like, petrol_like, segment_like
from recommender.evaluation import (
    GateDecision,
    HeldOutHits,
    Strategy,
    choose_strategy,
    decide,
    held_out_items,
    ranking_metrics,
    split_global,
    split_per_customer,
)
from recommender.model import Hyperparameters
from recommender.ranking import ServingPath

QUICK = Hyperparameters(no_components=16, epochs=20)


def test_per_customer_split_holds_out_each_customers_latest_fifth() -> None:
    customers = ["a"] * 5 + ["b"] * 10 + ["c"]
    times = [5, 1, 4, 2, 3, *range(10, 0, -1), 7]
    test = split_per_customer(customers, times).test
    assert test[:5].tolist() == [True, False, False, False, False]
    assert np.flatnonzero(test[5:15]).tolist() == [0, 1]
    assert not test[15]


def test_per_customer_split_breaks_time_ties_by_input_order() -> None:
    test = split_per_customer(["a"] * 5, [1, 1, 1, 1, 1]).test
    assert test.tolist() == [False, False, False, False, True]


def test_global_split_holds_out_the_latest_events() -> None:
    split = split_global([9, 1, 8, 2, 7, 3, 6, 4, 5, 0])
    assert np.flatnonzero(split.test).tolist() == [0, 2]
    assert split.train.sum() == 8


def test_held_out_items_drop_seen_items_and_empty_customers() -> None:
    customers = ["a", "a", "a", "b", "b"]
    items = ["x", "y", "x", "z", "w"]
    split = split_global([1, 2, 4, 3, 5], test_fraction=0.4)
    assert held_out_items(customers, items, split) == {"b": frozenset({"w"})}
    assert held_out_items(customers, items, split, exclude_seen=False) == {
        "a": frozenset({"x"}),
        "b": frozenset({"w"}),
    }


def test_ranking_metrics_match_hand_computation() -> None:
    metrics = ranking_metrics(
        {"a": ["x", "y", "z"], "b": ["p", "q", "r"], "c": ["x"]},
        {"a": {"y", "w"}, "b": {"s"}, "d": set()},
        k=3,
    )
    discount = 1 / math.log2(3)
    assert metrics.customers == 2
    assert metrics.precision == pytest.approx((1 / 3 + 0) / 2)
    assert metrics.recall == pytest.approx((1 / 2 + 0) / 2)
    assert metrics.ndcg == pytest.approx((discount / (1 + discount) + 0) / 2)


def test_ranking_metrics_cut_at_k_and_handle_missing_lists() -> None:
    metrics = ranking_metrics({"a": ["x", "y"]}, {"a": {"x"}, "b": {"y"}}, k=1)
    assert (metrics.precision, metrics.recall, metrics.ndcg) == (0.5, 0.5, 0.5)
    assert math.isnan(ranking_metrics({}, {}, k=5).precision)


def hits(personal: list[float], segment: list[float], popular: list[float]) -> HeldOutHits:
    n = len(personal)
    return HeldOutHits(
        held_out=np.full(n, 4.0),
        personal=np.array(personal),
        segment=np.array(segment),
        popular=np.array(popular),
        has_segments=True,
        k=10,
    )


def test_decide_applies_the_bar_in_order() -> None:
    many = 60
    assert decide(hits([2] * many, [1] * many, [1] * many)).strategy == Strategy.ONE_TO_ONE
    assert decide(hits([2] * many, [2] * many, [1] * many)).strategy == Strategy.SEGMENT
    assert decide(hits([1] * many, [1] * many, [1] * many)).strategy == Strategy.POPULAR
    assert decide(hits([2] * many, [1] * many, [1] * many), tau=0.5).strategy == Strategy.POPULAR


def test_strategy_names_the_first_serving_path() -> None:
    assert Strategy.ONE_TO_ONE.start == ServingPath.PERSONAL
    assert Strategy.SEGMENT.start == ServingPath.SEGMENT
    assert Strategy.POPULAR.start == ServingPath.POPULAR


def gate(log: EventLog, **options: Any) -> GateDecision:
    return choose_strategy(
        log.customer_ids,
        log.item_ids,
        log.times,
        log.weights,
        customer_segments=log.customer_segments,
        hyperparameters=QUICK,
        **options,
    )


def test_bookstore_like_catalog_gets_one_to_one() -> None:
    decision = gate(bookstore_like(seed=3))
    assert decision.strategy == Strategy.ONE_TO_ONE, decision.reason
    assert decision.comparisons["personal_vs_popular"].lift_bits.low > 0
    assert decision.comparisons["personal_vs_segment"].beats
    assert decision.customers_evaluated == 200
    json.dumps(decision.to_dict(), allow_nan=False)


@pytest.mark.parametrize("options", [{}, {"k": 1, "exclude_seen": False}])
def test_petrol_like_catalog_gets_popular(options: dict[str, Any]) -> None:
    decision = gate(petrol_like(seed=3), **options)
    assert decision.strategy == Strategy.POPULAR, decision.reason
    json.dumps(decision.to_dict(), allow_nan=False)


def test_repeat_purchase_petrol_gate_is_decided_on_the_figures() -> None:
    decision = gate(petrol_like(seed=4), k=1, exclude_seen=False)
    assert decision.strategy == Strategy.POPULAR
    assert decision.customers_evaluated == 300
    assert not decision.comparisons["personal_vs_popular"].beats
    assert "Too little data" not in decision.reason


def test_homogeneous_segments_get_segment_lists() -> None:
    decision = gate(segment_like(seed=3))
    assert decision.strategy == Strategy.SEGMENT, decision.reason
    assert decision.comparisons["segment_vs_popular"].beats


def test_too_little_data_is_served_popular_and_said_so() -> None:
    log = bookstore_like(seed=3, customers=12, events_per_customer=(2, 3))
    decision = gate(log)
    assert decision.strategy == Strategy.POPULAR
    assert decision.reason.startswith("Too little data")
    assert decision.comparisons == {} and decision.customers_evaluated == 12
    assert json.loads(json.dumps(decision.to_dict()))["strategy"] == "popular"
