"""The personalization-value scorer: hand-computed statistics, scenarios and read-time decisions."""

from __future__ import annotations

import json
import math
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.decision import Thresholds, decide
from recommender.value import (
    AttributeCounts,
    AttributeScore,
    ScorerSettings,
    personal_distribution,
    score_attribute,
    split_latest,
)


def simulate(preferences: np.ndarray, events_per_customer: int, seed: int) -> AttributeCounts:
    """Each customer draws events from their own preference row; the latest one is held out."""
    rng = np.random.default_rng(seed)
    n_customers, n_values = preferences.shape
    customer = np.repeat(np.arange(n_customers), events_per_customer)
    cumulative = np.cumsum(preferences, axis=1)[customer]
    value = np.minimum((rng.random(customer.size)[:, None] > cumulative).sum(axis=1), n_values - 1)
    time = rng.random(customer.size)
    return split_latest(customer, value, np.ones(customer.size), time, n_customers, n_values)


def bookstore(seed: int = 0, customers: int = 500) -> AttributeCounts:
    """30 genres; every customer concentrated on a few of their own."""
    preferences = np.random.default_rng(seed).dirichlet(np.full(30, 0.1), size=customers)
    return simulate(preferences, events_per_customer=3, seed=seed + 1)


def petrol(seed: int = 0) -> AttributeCounts:
    """Three octanes chosen 85/10/5 by everyone."""
    return simulate(np.tile([0.85, 0.10, 0.05], (500, 1)), events_per_customer=3, seed=seed)


def two_segments(seed: int = 0) -> AttributeCounts:
    """60% of customers favour values 0-2, 40% values 3-5 (so no top 3 serves both), alike within."""
    first = np.r_[0.35, 0.25, 0.2, np.full(9, 0.2 / 9)]
    second = np.r_[np.full(3, 0.2 / 9), 0.35, 0.25, 0.2, np.full(6, 0.2 / 9)]
    return simulate(np.vstack([np.tile(first, (360, 1)), np.tile(second, (240, 1))]), 4, seed)


def tiny_counts(train_rows: list[list[float]], test_rows: list[list[float]]) -> AttributeCounts:
    """Counts given as small dense rows."""
    return AttributeCounts(sp.csr_matrix(np.array(train_rows)), sp.csr_matrix(np.array(test_rows)))


def test_phi_matches_pair_counting_by_hand() -> None:
    # Customer 0 chose values 0,0,1; customer 1 chose 1,1; customer 2 chose 2.
    # Same-value pairs within customers: 2*1 (c0, value 0) + 2*1 (c1, value 1) = 4;
    # pairs within customers: 3*2 + 2*1 + 1*0 = 8, so S_w = 4/8 = 1/2.
    # Value totals X = (2, 3, 1), N = 6: sum X^2 = 14, sum x^2 = 4+1+4+1 = 10, sum n^2 = 9+4+1 = 14,
    # so S_b = (14 - 10) / (36 - 14) = 2/11 and phi = (1/2 - 2/11) / (1 - 2/11) = 7/18.
    counts = tiny_counts([[2, 1, 0], [0, 2, 0], [0, 0, 1]], [[0, 0, 0]] * 3)
    score = score_attribute(counts, ScorerSettings(segments=False))
    assert score.phi is not None
    assert score.phi.estimate == pytest.approx(7 / 18)
    assert score.phi.low <= score.phi.estimate <= score.phi.high
    assert score.lift is None and score.evaluated_customers == 0


def test_lift_and_hits_by_hand() -> None:
    # Train: c0 chose value 0 twice; c1 chose 0 and 1. Test: c0 -> 0, c1 -> 1.
    # pi (train, one pseudo-event spread over 3 values) = (3 + 1/3, 1 + 1/3, 1/3) / 5.
    # With S = 1: p(c0, 0) = (2 + 2/3) / 3 = 8/9, ratio (8/9) / (2/3) = 4/3;
    #             p(c1, 1) = (1 + 4/15) / 3 = 19/45, ratio (19/45) / (4/15) = 19/12.
    # Lift = (log2(4/3) + log2(19/12)) / 2 = log2(19/9) / 2 bits per event.
    # Top-1: c0 -> value 0 (hit); c1 scores 1 + 2/3 for 0 and 1 + 4/15 for 1 -> value 0 (miss);
    # the population's top-1 is value 0 too, so both hit rates are 1/2 and delta hit@1 = 0.
    counts = tiny_counts([[2, 0, 0], [1, 1, 0]], [[1, 0, 0], [0, 1, 0]])
    settings = ScorerSettings(k=1, segments=False, shrinkage_grid=(1.0,))
    score = score_attribute(counts, settings)
    assert score.lift is not None and score.delta_hit is not None
    assert score.lift.estimate == pytest.approx(math.log2(19 / 9) / 2)
    assert score.lift.low <= score.lift.estimate <= score.lift.high
    assert score.hit_rate == score.population_hit_rate == 0.5
    assert score.delta_hit.estimate == 0.0
    assert score.shrinkage == 1.0


def test_split_latest_holds_out_latest_event_of_customers_with_two_or_more() -> None:
    customer = np.array([0, 0, 0, 1, 2, 2])
    value = np.array([0, 1, 2, 1, 0, 0])
    time = np.array([3.0, 1.0, 2.0, 5.0, 1.0, 1.0])
    counts = split_latest(customer, value, np.ones(6), time, 3, 3)
    assert counts.train.toarray().tolist() == [[0, 1, 1], [0, 1, 0], [1, 0, 0]]
    assert counts.test.toarray().tolist() == [[1, 0, 0], [0, 0, 0], [1, 0, 0]]


def test_bookstore_attribute_is_tailored_one_to_one() -> None:
    score = score_attribute(bookstore())
    decision = decide(score, Thresholds(), attribute="genre")
    assert (decision.decision, decision.level) == ("tailor", "one-to-one")
    assert decision.explanation.startswith("Customers' genre choices differ")
    assert "better than the bestseller list" in decision.explanation


def test_petrol_attribute_is_mass_default() -> None:
    decision = decide(score_attribute(petrol()), attribute="octane")
    assert (decision.decision, decision.level) == ("default", "mass")
    assert "same default" in decision.explanation


def test_two_homogeneous_segments_are_niche_or_targeted() -> None:
    score = score_attribute(two_segments())
    decision = decide(score)
    assert score.n_segments == 2
    assert decision.decision == "tailor"
    assert decision.level in ("niche", "targeted")


def test_one_event_per_customer_is_undetermined() -> None:
    preferences = np.random.default_rng(0).dirichlet(np.full(30, 0.1), size=500)
    score = score_attribute(simulate(preferences, events_per_customer=1, seed=0))
    decision = decide(score, attribute="genre")
    assert not score.sufficient_data and score.insufficient_reason
    assert (decision.decision, decision.level) == ("default", "undetermined")
    assert decision.explanation.startswith("Too little data to judge genre")


@pytest.mark.slow
def test_null_attribute_is_rarely_tailored() -> None:
    shares = 1.0 / np.arange(1, 31)
    preferences = np.tile(shares / shares.sum(), (500, 1))
    tailored = sum(
        decide(score_attribute(simulate(preferences, 3, seed), ScorerSettings(seed=seed))).decision
        == "tailor"
        for seed in range(100)
    )
    assert tailored <= 5


def test_thresholds_change_the_decision_without_rescoring() -> None:
    score = score_attribute(bookstore())
    assert decide(score, Thresholds(tau=0.01)).decision == "tailor"
    strict = decide(score, Thresholds(tau=0.9))
    assert (strict.decision, strict.level) == ("default", "mass")
    costly = decide(score, Thresholds(c=0.5))
    assert costly.decision == "default" and costly.value is not None and costly.value.low < 0


def test_modes_override_the_decision_and_say_so() -> None:
    score = score_attribute(petrol())
    always = decide(score, Thresholds(mode="always"))
    assert (always.decision, always.level, always.override) == ("tailor", "mass", "always")
    assert "'always' override" in always.explanation
    never = decide(score_attribute(bookstore()), Thresholds(mode="never"))
    assert (never.decision, never.level, never.override) == ("default", "one-to-one", "never")
    with pytest.raises(ValueError, match="mode"):
        Thresholds(mode="sometimes")


def test_value_interval_follows_delta_hit() -> None:
    score = score_attribute(bookstore())
    decision = decide(score, Thresholds(f=2.0, u=3.0, c=0.1))
    assert score.delta_hit is not None and decision.value is not None
    assert decision.value.low == pytest.approx(6.0 * score.delta_hit.low - 0.1)
    assert decision.value.estimate == pytest.approx(6.0 * score.delta_hit.estimate - 0.1)


def test_score_round_trips_through_json() -> None:
    score = score_attribute(two_segments())
    stored = json.loads(json.dumps(score.to_dict(), allow_nan=False))
    assert AttributeScore.from_dict(stored) == score


def test_undefined_numbers_become_null_in_json() -> None:
    counts = tiny_counts([[1, 0], [0, 1]], [[0, 0], [0, 0]])
    score = score_attribute(counts)
    stored = json.loads(json.dumps(score.to_dict(), allow_nan=False))
    assert stored["phi"] is None and stored["lift"] is None
    assert AttributeScore.from_dict(stored).phi is None


def test_stated_preferences_are_weighted_in_when_they_predict() -> None:
    rng = np.random.default_rng(3)
    favourite = rng.integers(0, 20, size=400)
    train = sp.csr_matrix((np.ones(400), (np.arange(400), rng.integers(0, 20, size=400))), shape=(400, 20))
    test = sp.csr_matrix((np.ones(400), (np.arange(400), favourite)), shape=(400, 20))
    stated = sp.csr_matrix((np.ones(400), (np.arange(400), favourite)), shape=(400, 20))
    settings = ScorerSettings(segments=False)
    with_stated = score_attribute(AttributeCounts(train, test, stated), settings)
    without = score_attribute(AttributeCounts(train, test), settings)
    assert with_stated.stated_weight > 0
    assert with_stated.lift is not None and without.lift is not None
    assert with_stated.lift.low > without.lift.high


def test_personal_distribution_by_hand() -> None:
    # Stored shares {0: 0.5, 1: 0.3}; 4 values, so values 2 and 3 get (1 - 0.8) / 2 = 0.1 each.
    # S = 2, lambda = 1, counts {2: 2}, stated {1: 1}: denominator 2 + 1 + 2 = 5;
    # p0 = 2*0.5/5 = 0.2, p1 = (1 + 2*0.3)/5 = 0.32, p2 = (2 + 2*0.1)/5 = 0.44, p3 = 0.04.
    score = replace(
        score_attribute(petrol()),
        n_values=4,
        population_shares={0: 0.5, 1: 0.3},
        shrinkage=2.0,
        stated_weight=1.0,
    )
    top = personal_distribution({2: 2.0}, {1: 1.0}, score, top=3)
    assert [value for value, _ in top] == [2, 1, 0]
    assert [p for _, p in top] == pytest.approx([0.44, 0.32, 0.2])


def many_authors(customers: int, authors: int, seed: int) -> AttributeCounts:
    """Zipf-popular authors; each customer returns to a favourite author 60% of the time."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, authors + 1)
    popularity /= popularity.sum()
    customer = np.repeat(np.arange(customers), 5)
    favourite = rng.choice(authors, size=customers, p=popularity)
    loyal = rng.random(customer.size) < 0.6
    value = np.where(loyal, favourite[customer], rng.choice(authors, size=customer.size, p=popularity))
    time = rng.random(customer.size)
    return split_latest(customer, value, np.ones(customer.size), time, customers, authors)


def test_many_values_run_without_dense_customer_by_value_matrices() -> None:
    counts = many_authors(customers=20_000, authors=5_000, seed=0)
    dense_bytes = 20_000 * 5_000 * 8
    tracemalloc.start()
    score = score_attribute(counts)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < dense_bytes / 4
    assert len(score.population_shares) == 50
    assert decide(score).level == "one-to-one"
