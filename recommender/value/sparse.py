"""Sparse-matrix helpers of the scorer: canonical CSR, entry lookup, per-row top k."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def canonical(matrix: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """A float64 CSR copy with sorted, summed indices and no explicit zeros; negatives refused."""
    result = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    result.sum_duplicates()
    result.eliminate_zeros()
    if result.nnz and result.data.min() < 0:
        raise ValueError("counts must be non-negative")
    return result


def row_of_entries(matrix: sp.csr_matrix) -> np.ndarray:
    """Row index of every stored entry of a CSR matrix."""
    return np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))


def _find(sorted_keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each wanted key would sit in a sorted key array, and whether it is there."""
    if sorted_keys.size == 0:
        return np.zeros(wanted.size, dtype=np.int64), np.zeros(wanted.size, dtype=bool)
    position = np.minimum(np.searchsorted(sorted_keys, wanted), sorted_keys.size - 1)
    return position, sorted_keys[position] == wanted


def sorted_contains(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each wanted key is in the sorted key array."""
    return _find(sorted_keys, wanted)[1]


def lookup(matrix: sp.csr_matrix, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Entries of a canonical CSR matrix at (row, value) pairs; zero where nothing is stored."""
    keys = row_of_entries(matrix) * matrix.shape[1] + matrix.indices
    position, found = _find(keys, rows * matrix.shape[1] + values)
    return np.where(found, matrix.data[position] if matrix.nnz else 0.0, 0.0)


def top_k_keys(rows: np.ndarray, values: np.ndarray, score: np.ndarray, k: int, n_values: int) -> np.ndarray:
    """Sorted keys row * n_values + value of each row's k highest-scoring candidates."""
    order = np.lexsort((-score, rows))
    ranked_rows = rows[order]
    first_of_row = np.r_[0, np.cumsum(np.bincount(ranked_rows))][ranked_rows]
    keep = order[np.arange(order.size) - first_of_row < k]
    return np.sort(rows[keep] * n_values + values[keep])
