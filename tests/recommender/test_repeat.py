"""Tests for the repeat model: decayed frequencies, cheap updates, reasons and neighbour smoothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.repeat import DAY, RepeatModel, RepeatReason, RepeatSettings, blend_lists


def test_frequency_ranks_items_when_recency_does_not_decay() -> None:
    model = RepeatModel.fit(
        [0, 0, 0, 0, 0, 1], [2, 2, 2, 1, 1, 0], [1, 2, 3, 4, 5, 6], settings=RepeatSettings(math.inf)
    )
    assert model.top_k(0, 5).tolist() == [2, 1]
    assert model.scores(0).tolist() == [0.0, 2.0, 3.0]


def test_recency_decay_halves_weight_per_half_life() -> None:
    times = np.array([0.0, 0.0, 20.0]) * DAY
    model = RepeatModel.fit([0, 0, 0], [0, 0, 1], times, settings=RepeatSettings(half_life_days=10.0))
    scores = model.scores(0)
    assert scores[0] / scores[1] == pytest.approx(2 * 0.25)
    assert model.top_k(0, 2).tolist() == [1, 0]


def test_non_positive_weights_are_ignored() -> None:
    model = RepeatModel.fit([0, 0], [0, 1], [1.0, 2.0], [1.0, -1.0], n_items=3)
    assert model.top_k(0, 3).tolist() == [0]


def test_update_matches_a_refit_with_the_new_events() -> None:
    rng = np.random.default_rng(1)
    users, items = rng.integers(20, size=400), rng.integers(30, size=400)
    times = np.sort(rng.uniform(0, 100, 400)) * DAY
    settings = RepeatSettings(half_life_days=15.0)
    old = times < 80 * DAY
    model = RepeatModel.fit(users[old], items[old], times[old], n_users=20, n_items=30, settings=settings)
    refit = RepeatModel.fit(users, items, times, n_users=20, n_items=30, settings=settings)
    for user in range(20):
        new = ~old & (users == user)
        model.update(user, items[new], times[new])
        ratio = refit.scores(user)[refit.scores(user) > 0] / model.scores(user)[model.scores(user) > 0]
        assert np.allclose(ratio, ratio[0])
        assert model.top_k(user, 30).tolist() == refit.top_k(user, 30).tolist()
        assert model.reason(user, int(items[users == user][-1]), 100 * DAY) == refit.reason(
            user, int(items[users == user][-1]), 100 * DAY
        )


def test_update_brings_a_new_customer_and_rejects_unknown_items() -> None:
    model = RepeatModel.fit([0], [0], [0.0], n_items=2)
    model.update(5, [1, 1], [DAY, 2 * DAY])
    assert model.top_k(5, 2).tolist() == [1]
    with pytest.raises(ValueError, match="catalog"):
        model.update(5, [2], [DAY])


def test_reason_counts_purchases_and_days_since_the_last() -> None:
    model = RepeatModel.fit([0, 0, 0, 0], [3, 3, 3, 1], np.array([1.0, 5.0, 9.0, 2.0]) * DAY, n_items=5)
    reason = model.reason(0, 3, now=21 * DAY)
    assert reason == RepeatReason(times_bought=3, days_since_last=12.0)
    assert reason is not None and reason.text == "bought 3 times, last 12 days ago"
    assert model.reason(0, 2, now=21 * DAY) is None
    assert RepeatReason(1, 0.2).text == "bought once, last 0 days ago"


def test_min_times_keeps_only_items_bought_again() -> None:
    model = RepeatModel.fit([0, 0, 0], [4, 4, 2], [1.0, 2.0, 3.0])
    assert model.top_k(0, 5, min_times=2).tolist() == [4]


def test_neighbours_lend_their_items_to_similar_customers() -> None:
    users = [0, 0, 1, 1, 1, 2, 2]
    items = [0, 1, 0, 1, 2, 5, 6]
    settings = RepeatSettings(half_life_days=math.inf, neighbours=1, own_weight=0.6)
    model = RepeatModel.fit(users, items, [0.0] * 7, settings=settings)
    ranked = model.top_k(0, 7).tolist()
    assert ranked[:2] == [0, 1] and ranked[2] == 2
    assert 5 not in ranked and 6 not in ranked
    assert RepeatModel.fit(users, items, [0.0] * 7).top_k(0, 7).tolist() == [0, 1]


def test_blend_fills_discovery_slots_without_duplicates() -> None:
    assert blend_lists([1, 2, 3, 4], [2, 9, 8, 7], k=5, discovery_slots=2) == [1, 2, 3, 9, 8]
    assert blend_lists([], [9, 8], k=3, discovery_slots=1) == [9, 8]


def test_recall_ranks_own_items_with_new_purchases_and_leaves_the_model_unchanged() -> None:
    times = np.array([0.0, 1.0, 2.0, 3.0, 10.0]) * DAY
    model = RepeatModel.fit([0, 0, 0, 0, 1], [1, 1, 1, 2, 3], times, n_items=6, settings=RepeatSettings(5.0))
    now = 20.0 * DAY
    recalled = model.recall(0, 5, now=now)
    assert [r.position for r in recalled] == [1, 2]
    assert recalled[0].reason == RepeatReason(3, 18.0)
    # A purchase since the fit (at `now`) weighs 2^(10 days / 5) of one at the model's latest event.
    fresh = model.recall(0, 5, new_items={2, 4}, now=now)
    assert [r.position for r in fresh] == [2, 4, 1]
    assert [r.score for r in fresh[:2]] == pytest.approx([4.0 + 2.0 ** (-7 / 5), 4.0])
    assert {r.position: r.reason.times_bought for r in fresh} == {1: 3, 2: 2, 4: 1}
    assert [r.position for r in model.recall(0, 5, now=now)] == [1, 2]
    assert [r.position for r in model.recall(0, 5, now=now, min_times=2)] == [1]
    within = np.ones(6, dtype=bool)
    within[1] = False
    assert [r.position for r in model.recall(0, 5, now=now, hidden=[{2}], within=within)] == []
    assert (
        model.recall(model.n_users, 5, new_items={5}, now=now)[0].reason.text
        == "bought once, last 0 days ago"
    )


def test_a_saved_model_loads_with_the_same_rows_and_settings() -> None:
    rng = np.random.default_rng(2)
    users, items = rng.integers(15, size=300), rng.integers(25, size=300)
    times = rng.uniform(0, 90, 300) * DAY
    model = RepeatModel.fit(users, items, times, settings=RepeatSettings(30.0, neighbours=3, own_weight=0.6))
    loaded = RepeatModel.load(model.save())
    assert loaded.settings == model.settings and loaded.reference_time == model.reference_time
    for user in range(15):
        assert np.allclose(loaded.scores(user), model.scores(user))
        assert model.recall(user, 5, now=100 * DAY) == loaded.recall(user, 5, now=100 * DAY)
