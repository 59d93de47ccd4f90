"""Latent-class multinomial mixture of customers' choice counts, the scorer's segment model.

The mixture lives on a reduced value space: when there are more values than `max_columns`, the
`max_columns - 1` most chosen keep a column each and the rest share an "other" column, inside
which a value's share follows the population shares. G is chosen by BIC on training counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class MixtureSettings:
    """How the mixture is fitted."""

    max_segments: int = 6
    max_columns: int = 201
    sample_customers: int = 20_000
    restarts: int = 2
    max_iterations: int = 100
    tolerance: float = 1e-5
    smoothing: float = 1.0
    patience: int = 2
    seed: int = 0


@dataclass(frozen=True)
class ValueColumns:
    """Map from values to mixture columns: own columns for the most chosen values, then "other"."""

    own_values: np.ndarray
    value_column: np.ndarray
    within_column_share: np.ndarray

    @property
    def n_columns(self) -> int:
        """Number of columns, counting the "other" column when some values share it."""
        return int(self.value_column.max()) + 1

    @property
    def outside_values(self) -> np.ndarray:
        """Values in the "other" column, most chosen first."""
        outside = np.flatnonzero(self.value_column >= self.own_values.size)
        return outside[np.argsort(-self.within_column_share[outside], kind="stable")]


def value_columns(shares: np.ndarray, max_columns: int) -> ValueColumns:
    """Own columns for the top values by share; all values go to "other" when there are more."""
    order = np.argsort(-shares, kind="stable")
    n_own = shares.size if shares.size <= max_columns else max_columns - 1
    value_column = np.full(shares.size, n_own, dtype=np.int64)
    value_column[order[:n_own]] = np.arange(n_own)
    within = np.ones(shares.size)
    outside = order[n_own:]
    if outside.size:
        within[outside] = shares[outside] / shares[outside].sum()
    return ValueColumns(order[:n_own], value_column, within)


@dataclass(frozen=True)
class Mixture:
    """A fitted mixture: segment weights and profiles over the value columns."""

    weights: np.ndarray
    log_profiles: np.ndarray
    columns: ValueColumns
    bic: float

    @property
    def n_segments(self) -> int:
        """G, the number of segments."""
        return int(self.weights.size)

    def own_value_shares(self) -> np.ndarray:
        """Each segment's shares of the values with a column of their own, (G, own values)."""
        return np.exp(self.log_profiles[:, : self.columns.own_values.size])


def reduce_columns(counts: sp.csr_matrix, columns: ValueColumns) -> sp.csr_matrix:
    """Counts summed into the mixture's columns."""
    reduced = sp.csr_matrix(
        (counts.data, columns.value_column[counts.indices], counts.indptr),
        shape=(counts.shape[0], columns.n_columns),
    )
    reduced.sum_duplicates()
    return reduced


def fit_mixture(counts: sp.csr_matrix, shares: np.ndarray, settings: MixtureSettings) -> Mixture:
    """Fit mixtures with G = 1, 2, ... and keep the one with the lowest BIC."""
    columns = value_columns(shares, settings.max_columns)
    prior = np.bincount(columns.value_column, weights=shares, minlength=columns.n_columns)
    rng = np.random.default_rng(settings.seed)
    sample = _fitting_sample(reduce_columns(counts, columns), settings, rng)
    best = Mixture(np.ones(1), np.log(prior)[None, :], columns, float("inf"))
    worse_in_a_row = 0
    for n_segments in range(1, min(settings.max_segments, sample.shape[0]) + 1):
        weights, log_profiles, loglik = _best_of_restarts(sample, prior, n_segments, settings, rng)
        parameters = n_segments * (columns.n_columns - 1) + n_segments - 1
        bic = -2.0 * loglik + parameters * np.log(sample.shape[0])
        if bic < best.bic:
            best = Mixture(weights, log_profiles, columns, float(bic))
            worse_in_a_row = 0
        else:
            worse_in_a_row += 1
            if worse_in_a_row >= settings.patience:
                break
    return best


def _fitting_sample(
    reduced: sp.csr_matrix, settings: MixtureSettings, rng: np.random.Generator
) -> sp.csr_matrix:
    """Customers with training counts, subsampled to keep EM fast."""
    active = np.flatnonzero(np.diff(reduced.indptr) > 0)
    if active.size > settings.sample_customers:
        active = np.sort(rng.choice(active, settings.sample_customers, replace=False))
    return reduced[active]


def _best_of_restarts(
    sample: sp.csr_matrix,
    prior: np.ndarray,
    n_segments: int,
    settings: MixtureSettings,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float]:
    """EM from several random starts; the fit with the highest log-likelihood."""
    restarts = 1 if n_segments == 1 else settings.restarts
    fits = []
    for _ in range(restarts):
        start = _initial_profiles(sample, prior, n_segments, rng)
        fits.append(_expectation_maximization(sample, prior, start, settings))
    return max(fits, key=lambda fit: fit[2])


def _initial_profiles(
    sample: sp.csr_matrix, prior: np.ndarray, n_segments: int, rng: np.random.Generator
) -> np.ndarray:
    """Log profiles halfway between the population and randomly chosen customers."""
    if n_segments == 1:
        return np.log(prior)[None, :]
    seeds = sample[rng.choice(sample.shape[0], n_segments, replace=False)].toarray()
    profiles = seeds / seeds.sum(axis=1, keepdims=True) + prior
    return np.log(profiles / profiles.sum(axis=1, keepdims=True))


def _expectation_maximization(
    sample: sp.csr_matrix, prior: np.ndarray, log_profiles: np.ndarray, settings: MixtureSettings
) -> tuple[np.ndarray, np.ndarray, float]:
    """EM for the multinomial mixture; profiles smoothed toward the population shares."""
    log_weights = np.full(log_profiles.shape[0], -np.log(log_profiles.shape[0]))
    transposed = sample.T.tocsr()
    stop_gain = settings.tolerance * sample.shape[0]
    previous = -np.inf
    for iteration in range(settings.max_iterations + 1):
        responsibilities, loglik = _e_step(sample, log_weights, log_profiles)
        if iteration == settings.max_iterations or loglik - previous < stop_gain:
            break
        previous = loglik
        expected = np.asarray(transposed @ responsibilities).T
        smoothed = expected + settings.smoothing * prior
        log_profiles = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
        log_weights = np.log(np.maximum(responsibilities.mean(axis=0), 1e-300))
    return np.exp(log_weights), log_profiles, loglik


def _e_step(
    counts: sp.csr_matrix, log_weights: np.ndarray, log_profiles: np.ndarray
) -> tuple[np.ndarray, float]:
    """Segment posteriors of each customer and the total log-likelihood (up to a constant)."""
    joint = np.asarray(counts @ log_profiles.T) + log_weights
    peak = joint.max(axis=1, keepdims=True)
    probabilities = np.exp(joint - peak)
    totals = probabilities.sum(axis=1, keepdims=True)
    return probabilities / totals, float((peak + np.log(totals)).sum())


def posteriors(mixture: Mixture, counts: sp.csr_matrix) -> np.ndarray:
    """Each customer's segment posterior (customers x G) given their counts over all values."""
    reduced = reduce_columns(counts, mixture.columns)
    return _e_step(reduced, np.log(mixture.weights), mixture.log_profiles)[0]


def segment_probability(
    mixture: Mixture, posterior: np.ndarray, rows: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """Posterior-weighted segment share m_iv at the given (customer row, value) pairs."""
    profiles = np.exp(mixture.log_profiles)
    column_share = np.einsum("ng,gn->n", posterior[rows], profiles[:, mixture.columns.value_column[values]])
    return column_share * mixture.columns.within_column_share[values]


def segment_top_k(mixture: Mixture, posterior: np.ndarray, k: int) -> np.ndarray:
    """The k values with the highest posterior-weighted segment share, per customer (rows x k)."""
    candidates, candidate_shares = _candidate_shares(mixture, k)
    k = min(k, candidates.size)
    rows_per_chunk = max(1, _CHUNK_CELLS // candidates.size)
    top = np.empty((posterior.shape[0], k), dtype=np.int64)
    for start in range(0, posterior.shape[0], rows_per_chunk):
        shares = posterior[start : start + rows_per_chunk] @ candidate_shares
        best = np.argpartition(-shares, k - 1, axis=1)[:, :k]
        top[start : start + rows_per_chunk] = candidates[best]
    return top


def _candidate_shares(mixture: Mixture, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Values that can reach a top k (own-column values, k most chosen others) and their shares."""
    columns = mixture.columns
    values = np.r_[columns.own_values, columns.outside_values[:k]]
    profiles = np.exp(mixture.log_profiles)
    shares = profiles[:, columns.value_column[values]] * columns.within_column_share[values]
    return values, shares
