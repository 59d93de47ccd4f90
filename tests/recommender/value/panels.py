"""Synthetic choice panels with a known truth for the scorer's tests."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.value.counts import AttributeCounts, split_latest


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


def petrol(seed: int = 0, customers: int = 500) -> AttributeCounts:
    """Three octanes chosen 85/10/5 by everyone."""
    return simulate(np.tile([0.85, 0.10, 0.05], (customers, 1)), events_per_customer=3, seed=seed)


def two_segments(seed: int = 0) -> AttributeCounts:
    """60% of customers favour values 0-2, 40% values 3-5 (so no top 3 serves both), alike within."""
    first = np.r_[0.35, 0.25, 0.2, np.full(9, 0.2 / 9)]
    second = np.r_[np.full(3, 0.2 / 9), 0.35, 0.25, 0.2, np.full(6, 0.2 / 9)]
    return simulate(np.vstack([np.tile(first, (360, 1)), np.tile(second, (240, 1))]), 4, seed)


def loyal(
    n_values: int, seed: int, customers: int = 300, loyalty: float = 0.9, shares: list[float] | None = None
) -> AttributeCounts:
    """Each customer keeps to a favourite value `loyalty` of the time; favourites follow `shares` (Zipf)."""
    rng = np.random.default_rng(seed)
    popularity = np.asarray(shares) if shares is not None else 1.0 / np.arange(1, n_values + 1)
    popularity = popularity / popularity.sum()
    favourite = rng.choice(n_values, size=customers, p=popularity)
    preferences = np.tile((1 - loyalty) * popularity, (customers, 1))
    preferences[np.arange(customers), favourite] += loyalty
    return simulate(preferences, events_per_customer=4, seed=seed + 1)


def tiny_counts(train_rows: list[list[float]], test_rows: list[list[float]]) -> AttributeCounts:
    """Counts given as small dense rows."""
    return AttributeCounts(sp.csr_matrix(np.array(train_rows)), sp.csr_matrix(np.array(test_rows)))
