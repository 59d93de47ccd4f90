"""The latent-class mixture behind the scorer's segment model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.segments import (
    MixtureSettings,
    fit_mixture,
    posteriors,
    segment_probability,
    segment_top_k,
    value_columns,
)


def segment_counts(seed: int, profiles: np.ndarray, customers: int, events: int) -> sp.csr_matrix:
    """Customers split evenly over the profiles, each with `events` multinomial draws."""
    rng = np.random.default_rng(seed)
    belongs = np.arange(customers) % profiles.shape[0]
    rows = np.vstack([rng.multinomial(events, profiles[segment]) for segment in belongs])
    return sp.csr_matrix(rows.astype(np.float64))


def shares_of(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed value shares of a count matrix."""
    totals = np.asarray(counts.sum(axis=0)).ravel() + 0.1
    return totals / totals.sum()


def test_top_values_get_own_columns_and_the_rest_share_other() -> None:
    columns = value_columns(np.array([0.05, 0.4, 0.1, 0.3, 0.15]), max_columns=3)
    assert columns.own_values.tolist() == [1, 3]
    assert columns.value_column.tolist() == [2, 0, 2, 1, 2]
    assert columns.within_column_share.tolist() == pytest.approx([1 / 6, 1, 1 / 3, 1, 0.5])
    assert columns.outside_values.tolist() == [4, 2, 0]


def test_few_values_need_no_other_column() -> None:
    columns = value_columns(np.array([0.2, 0.5, 0.3]), max_columns=5)
    assert columns.n_columns == 3 and columns.outside_values.size == 0


def test_bic_finds_two_clear_segments() -> None:
    profiles = np.array([[0.7, 0.1, 0.1, 0.05, 0.05], [0.05, 0.05, 0.1, 0.1, 0.7]])
    counts = segment_counts(0, profiles, customers=400, events=4)
    mixture = fit_mixture(counts, shares_of(counts), MixtureSettings())
    assert mixture.n_segments == 2
    assert sorted(mixture.weights.tolist()) == pytest.approx([0.5, 0.5], abs=0.06)
    truth = np.arange(400) % 2
    matches = np.mean(posteriors(mixture, counts).argmax(axis=1) == truth)
    assert max(matches, 1 - matches) > 0.85


def test_bic_keeps_one_segment_when_customers_are_alike() -> None:
    counts = segment_counts(1, np.array([[0.4, 0.3, 0.2, 0.1]]), customers=400, events=4)
    assert fit_mixture(counts, shares_of(counts), MixtureSettings()).n_segments == 1


def test_segment_top_k_matches_brute_force_over_all_values() -> None:
    rng = np.random.default_rng(2)
    profiles = rng.dirichlet(np.full(12, 0.3), size=3)
    counts = segment_counts(2, profiles, customers=300, events=6)
    settings = MixtureSettings(max_columns=5, max_segments=3)
    mixture = fit_mixture(counts, shares_of(counts), settings)
    posterior = posteriors(mixture, counts)
    rows = np.repeat(np.arange(300), 12)
    everything = segment_probability(mixture, posterior, rows, np.tile(np.arange(12), 300))
    brute = np.argsort(-everything.reshape(300, 12), axis=1)[:, :3]
    fast = segment_top_k(mixture, posterior, 3)
    assert mixture.n_segments > 1
    assert np.array_equal(np.sort(fast, axis=1), np.sort(brute, axis=1))
    assert everything.reshape(300, 12).sum(axis=1) == pytest.approx(np.ones(300))
