"""Sparse helpers: canonical form, lookups and per-row top k."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.value.sparse import canonical, lookup, row_of_entries, sorted_contains, top_k_keys


def test_canonical_sums_duplicates_drops_zeros_and_refuses_negatives() -> None:
    matrix = canonical(sp.coo_matrix(([1.0, 2.0, 0.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2)))
    assert matrix.nnz == 1 and matrix[0, 1] == 3.0
    with pytest.raises(ValueError, match="non-negative"):
        canonical(sp.csr_matrix(np.array([[0.0, -1.0]])))


def test_lookup_reads_stored_entries_and_zero_elsewhere() -> None:
    matrix = canonical(sp.csr_matrix(np.array([[0.0, 2.0, 0.0], [5.0, 0.0, 1.0]])))
    assert row_of_entries(matrix).tolist() == [0, 1, 1]
    found = lookup(matrix, np.array([0, 0, 1, 1]), np.array([1, 2, 0, 1]))
    assert found.tolist() == [2.0, 0.0, 5.0, 0.0]
    assert sorted_contains(np.array([1, 4, 9]), np.array([4, 5, 9])).tolist() == [True, False, True]


def test_top_k_keys_keeps_each_rows_highest_scores() -> None:
    rows = np.array([0, 0, 0, 1, 1])
    values = np.array([0, 1, 2, 0, 2])
    score = np.array([1.0, 3.0, 2.0, 0.5, 0.7])
    assert top_k_keys(rows, values, score, 2, 3).tolist() == [1, 2, 3, 5]
    assert top_k_keys(rows, values, score, 1, 3).tolist() == [1, 5]
