"""The scorer: hand-computed statistics, scenarios with a known truth, and the k it judges at."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.decision import Thresholds, decide
from recommender.value.counts import AttributeCounts, split_latest
from recommender.value.scorer import ScorerSettings, score_attribute
from tests.recommender.value.panels import bookstore, loyal, petrol, simulate, tiny_counts, two_segments

NULL_SHARES = {3: [0.85, 0.10, 0.05], 4: [0.5, 0.25, 0.15, 0.1], 5: [0.4, 0.25, 0.15, 0.12, 0.08]}


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
    score = score_attribute(counts, ScorerSettings(segments=False, shrinkage_grid=(1.0,)), slots=1)
    assert score.lift is not None and score.delta_hit is not None
    assert score.lift.estimate == pytest.approx(math.log2(19 / 9) / 2)
    assert score.lift.low <= score.lift.estimate <= score.lift.high
    assert score.hit_rate == score.population_hit_rate == 0.5
    assert score.delta_hit.estimate == 0.0
    assert score.shrinkage == 1.0
    assert (score.slots, score.k, score.k_reason) == (1, 1, None)


def test_slots_come_from_the_attribute_then_the_tenant_then_the_number_of_values() -> None:
    counts = bookstore()
    assert score_attribute(counts, ScorerSettings(k=5), slots=2).slots == 2
    assert score_attribute(counts, ScorerSettings(k=5)).slots == 5
    assert score_attribute(counts).slots == 3
    assert score_attribute(petrol()).slots == 1
    with pytest.raises(ValueError, match="slots"):
        score_attribute(counts, slots=0)


def test_bookstore_attribute_is_tailored_one_to_one() -> None:
    score = score_attribute(bookstore())
    decision = decide(score, Thresholds(), attribute="genre")
    assert (decision.decision, decision.level) == ("tailor", "one-to-one")
    assert decision.explanation.startswith("Customers' genre choices differ")
    assert "better than the bestseller list (hit@3" in decision.explanation


def test_petrol_attribute_is_mass_default() -> None:
    decision = decide(score_attribute(petrol()), attribute="octane")
    assert (decision.decision, decision.level) == ("default", "mass")
    assert "same default" in decision.explanation and "(hit@1 " in decision.explanation


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


@pytest.mark.parametrize("n_values", [3, 4, 5])
@pytest.mark.parametrize("slots", [1, None, 3])
def test_loyal_customers_over_few_values_are_tailored(n_values: int, slots: int | None) -> None:
    score = score_attribute(loyal(n_values, seed=n_values), slots=slots)
    decision = decide(score, attribute="brand")
    assert decision.decision == "tailor"
    assert decision.level in ("niche", "targeted", "one-to-one")
    assert score.population_hit_rate is not None and score.population_hit_rate < 0.95
    assert score.k <= (slots or 1)


def test_a_shelf_covering_nearly_every_choice_is_judged_at_fewer_slots() -> None:
    # Four brands, the top three hold about 98% of choices: hit@3 could not tell anything apart.
    score = score_attribute(loyal(4, seed=0, loyalty=0.97, shares=[0.5, 0.3, 0.18, 0.02]), slots=3)
    decision = decide(score, attribute="brand")
    assert score.slots == 3 and score.k < 3 and score.discriminates
    assert score.k_reason is not None and f"hit@{score.k} rather than at its 3 slots" in score.k_reason
    assert decision.decision == "tailor" and f"(hit@{score.k} " in decision.explanation
    assert "hit@3 " not in decision.explanation and score.k_reason in decision.explanation


def test_a_bestseller_taking_nearly_every_choice_is_undetermined_and_compares_nothing() -> None:
    panel = simulate(np.tile([0.98, 0.01, 0.01], (400, 1)), events_per_customer=4, seed=1)
    for slots in (1, 2, 3):
        score = score_attribute(panel, slots=slots)
        decision = decide(score, attribute="octane")
        assert (score.k, score.discriminates) == (1, False)
        assert (decision.decision, decision.level) == ("default", "undetermined")
        assert decision.explanation.startswith("No comparison can judge octane: the bestseller alone")
        assert "hit@" not in decision.explanation


@pytest.mark.slow
def test_null_panels_are_rarely_tailored_at_any_slot_count() -> None:
    tailored = dict.fromkeys((1, 2, 3), 0)
    for seed in range(200):
        n_values = 3 + seed % 3
        panel = simulate(np.tile(NULL_SHARES[n_values], (200, 1)), 4, seed)
        for slots in tailored:
            decision = decide(score_attribute(panel, ScorerSettings(seed=seed), slots=slots))
            tailored[slots] += decision.decision == "tailor"
    assert all(count <= 10 for count in tailored.values()), tailored


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


def many_authors(customers: int, authors: int, seed: int) -> AttributeCounts:
    """Zipf-popular authors; each customer returns to a favourite author 60% of the time."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, authors + 1)
    popularity /= popularity.sum()
    customer = np.repeat(np.arange(customers), 5)
    favourite = rng.choice(authors, size=customers, p=popularity)
    loyal_choice = rng.random(customer.size) < 0.6
    value = np.where(loyal_choice, favourite[customer], rng.choice(authors, size=customer.size, p=popularity))
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
