"""The scorer's input: weighted choice counts of one attribute, split in time per customer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class AttributeCounts:
    """Weighted choice counts of one attribute (customers x values), split in time per customer."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    stated: sp.csr_matrix | None = None


def count_matrix(
    customer: np.ndarray, value: np.ndarray, weight: np.ndarray, n_customers: int, n_values: int
) -> sp.csr_matrix:
    """Sum event weights into a customers x values CSR matrix."""
    counts = sp.csr_matrix(
        (np.asarray(weight, dtype=np.float64), (customer, value)), shape=(n_customers, n_values)
    )
    counts.sum_duplicates()
    return counts


def split_latest(
    customer: np.ndarray,
    value: np.ndarray,
    weight: np.ndarray,
    time: np.ndarray,
    n_customers: int,
    n_values: int,
    holdout: int = 1,
) -> AttributeCounts:
    """Hold out each customer's latest `holdout` events (keeping one for training if fewer)."""
    customer = np.asarray(customer, dtype=np.int64)
    order = np.lexsort((np.arange(customer.size), np.asarray(time), customer))
    events_of = np.bincount(customer, minlength=n_customers)
    held_of = np.minimum(holdout, np.maximum(events_of - 1, 0))
    position_from_end = np.cumsum(events_of)[customer[order]] - 1 - np.arange(customer.size)
    is_test = np.zeros(customer.size, dtype=bool)
    is_test[order] = position_from_end < held_of[customer[order]]
    value, weight = np.asarray(value), np.asarray(weight, dtype=np.float64)
    shape = (n_customers, n_values)
    return AttributeCounts(
        train=count_matrix(customer[~is_test], value[~is_test], weight[~is_test], *shape),
        test=count_matrix(customer[is_test], value[is_test], weight[is_test], *shape),
    )
