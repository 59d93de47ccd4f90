"""Tests for the gate over remembering and discovering, on synthetic tenants with known behaviour."""

from __future__ import annotations

import json

import numpy as np

from recommender.datasets import EventLog, bookstore_like, petrol_like, repeat_purchase_like
from recommender.evaluation import split_per_customer
from recommender.model import Hyperparameters, fit
from recommender.ranking import Recommender, build_popularity
from recommender.repeat import RepeatSettings
from recommender.repeat_gate import Path, PathDecision, choose_path, split_last_basket, tune_half_life

QUICK = Hyperparameters(no_components=16, epochs=20)


def gate(log: EventLog, **options: object) -> PathDecision:
    return choose_path(
        log.customer_ids,
        log.item_ids,
        log.times,
        log.weights,
        item_features=log.item_features,
        customer_segments=log.customer_segments,
        hyperparameters=QUICK,
        rounds=100,
        **options,  # type: ignore[arg-type]
    )


def test_last_basket_split_holds_out_each_customers_latest_time() -> None:
    split = split_last_basket(["a", "a", "a", "b", "b", "c"], [1, 2, 2, 5, 3, 4])
    assert split.test.tolist() == [False, True, True, True, False, False]


def test_repeat_tenant_remembers_and_beats_popular_by_far() -> None:
    decision = gate(repeat_purchase_like(seed=3))
    assert decision.path in (Path.REPEAT, Path.BLEND)
    assert decision.exclude_seen is False
    remembered = decision.candidates[decision.path.value]
    popular = decision.candidates["popular"]
    assert remembered.hit_rate.low > 2 * popular.hit_rate.high
    assert remembered.precision.low > popular.precision.high
    assert decision.comparisons[f"{decision.path.value}_vs_popular"].beats


def test_bookstore_discovers_and_keeps_bought_items_hidden() -> None:
    decision = gate(bookstore_like(seed=3))
    assert decision.path == Path.ONE_TO_ONE
    assert decision.exclude_seen is True
    assert decision.candidates["repeat"].hit_rate.estimate == 0.0
    assert decision.discovery is not None and decision.discovery.strategy.value == "one-to-one"


def test_petrol_tenant_stays_popular() -> None:
    decision = gate(petrol_like(seed=3))
    assert decision.path == Path.POPULAR
    assert decision.exclude_seen is True
    assert not decision.comparisons["repeat_vs_popular"].beats


def test_a_neighbour_smoothed_repeat_model_can_be_judged() -> None:
    settings = RepeatSettings(half_life_days=60.0, neighbours=10, own_weight=0.8)
    decision = gate(repeat_purchase_like(seed=4), repeat_settings=settings)
    assert decision.half_life_days == 60.0
    assert decision.path in (Path.REPEAT, Path.BLEND)


def test_half_life_tuning_prefers_short_memory_when_tastes_drift() -> None:
    rng = np.random.default_rng(0)
    users, items, times = [], [], []
    for user in range(60):
        for day in range(0, 200, 10):
            # Each customer's staple changes every 50 days: only recent purchases predict the next.
            users += [user, user]
            items += [(user + day // 50) % 40, int(rng.integers(40, 400))]
            times += [day * 86_400.0] * 2
    arrays = np.array(users), np.array(items), np.array(times, dtype=float)
    assert tune_half_life(*arrays, np.ones(len(users)), n_items=400, k=1) <= 14.0


def test_too_little_data_serves_popular_and_says_why() -> None:
    decision = gate(repeat_purchase_like(customers=10))
    assert decision.path == Path.POPULAR and decision.reason.startswith("Too little data")


def test_decision_records_every_candidate_as_json() -> None:
    decision = gate(repeat_purchase_like(seed=5))
    recorded = json.loads(json.dumps(decision.to_dict()))
    assert set(recorded["candidates"]) == {"repeat", "blend", "one-to-one", "segment", "popular"}
    assert recorded["path"] == decision.path.value
    assert recorded["discovery"]["strategy"] in ("one-to-one", "segment", "popular")
    assert 0 <= recorded["candidates"]["repeat"]["recall"]["low"] <= 1


def test_lists_fitted_by_the_caller_decide_as_those_the_gate_fits() -> None:
    log = bookstore_like(seed=3)
    split = split_per_customer(log.customer_ids, log.times)
    train = split.train
    model = fit(
        log.customer_ids[train],
        log.item_ids[train],
        log.weights[train],
        item_features=log.item_features,
        hyperparameters=QUICK,
    )
    popularity = build_popularity(
        model.items, log.customer_ids[train], log.item_ids[train], log.weights[train], log.customer_segments
    )
    given = gate(log, split=split, split_lists=Recommender(popularity, model))
    assert given.to_dict() == gate(log, split=split).to_dict()
