"""The scorer's canonical inputs: training counts, smoothed shares, evaluated customers' held-out choices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.value.counts import AttributeCounts
from recommender.value.sparse import canonical, row_of_entries


@dataclass(frozen=True)
class Prepared:
    """Canonical inputs, the evaluated customers and their held-out choices."""

    train: sp.csr_matrix
    full: sp.csr_matrix
    stated: sp.csr_matrix | None
    evaluated: np.ndarray
    train_evaluated: sp.csr_matrix
    stated_evaluated: sp.csr_matrix | None
    held_rows: np.ndarray
    held_values: np.ndarray
    held_weight: np.ndarray
    train_shares: np.ndarray

    @property
    def n_values(self) -> int:
        """Number of values of the attribute."""
        return int(self.full.shape[1])


def prepare(counts: AttributeCounts, prior_pseudo_events: float) -> Prepared:
    """Canonical sparse inputs and the held-out choices of evaluated customers."""
    train, test = canonical(counts.train), canonical(counts.test)
    stated = None if counts.stated is None else canonical(counts.stated)
    if train.shape != test.shape or (stated is not None and stated.shape != train.shape):
        raise ValueError("train, test and stated counts must have the same shape")
    stated = stated if stated is not None and stated.nnz else None
    evaluated = np.flatnonzero(np.diff(test.indptr) > 0)
    held = test[evaluated]
    return Prepared(
        train=train,
        full=canonical(train + test),
        stated=stated,
        evaluated=evaluated,
        train_evaluated=train[evaluated],
        stated_evaluated=None if stated is None else stated[evaluated],
        held_rows=row_of_entries(held),
        held_values=held.indices.astype(np.int64),
        held_weight=held.data,
        train_shares=smoothed_shares(train, prior_pseudo_events),
    )


def smoothed_shares(counts: sp.csr_matrix, pseudo_events: float) -> np.ndarray:
    """Value shares with `pseudo_events` spread evenly, so every share is positive."""
    totals = np.asarray(counts.sum(axis=0)).ravel()
    return (totals + pseudo_events / totals.size) / (totals.sum() + pseudo_events)
