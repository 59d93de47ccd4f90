"""Remembering: each customer's own items by purchase frequency and recency, optionally kNN-smoothed."""

from __future__ import annotations

import io
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recommender.topk import top_k

DAY = 86_400.0
HALF_LIFE_GRID_DAYS = (7.0, 14.0, 30.0, 60.0, 120.0, 365.0, math.inf)
# A purchase made long after the reference time weighs at most this much (no overflow to infinity).
_MAX_WEIGHT = 2.0**60


@dataclass(frozen=True)
class RepeatSettings:
    """Half-life of a purchase's weight, and the optional neighbour smoothing (TIFU-KNN style)."""

    half_life_days: float = 30.0
    neighbours: int = 0
    own_weight: float = 0.7


@dataclass(frozen=True)
class RepeatReason:
    """Why an item is in a customer's repeat list."""

    times_bought: int
    days_since_last: float

    @property
    def text(self) -> str:
        """The reason as a customer-facing sentence."""
        times = "once" if self.times_bought == 1 else f"{self.times_bought} times"
        return f"bought {times}, last {max(0, round(self.days_since_last))} days ago"


@dataclass(frozen=True)
class Remembered:
    """One of a customer's own items as served: its position, decayed score and why."""

    position: int
    score: float
    reason: RepeatReason


@dataclass
class _Row:
    """One customer's bought items (sorted positions) with event counts, decayed weight and last time."""

    items: np.ndarray
    times_bought: np.ndarray
    decayed: np.ndarray
    last: np.ndarray


class RepeatModel:
    """Decayed purchase frequencies per (customer, item), kept at one reference time so updates only add."""

    # A purchase at time t weighs w * 2^((t - reference) / half-life): scaling a whole row by the
    # same factor as time passes changes no ranking, so nothing needs re-decaying and new events add.

    def __init__(
        self,
        n_items: int,
        times_bought: sp.csr_matrix,
        decayed: sp.csr_matrix,
        last: sp.csr_matrix,
        reference_time: float,
        settings: RepeatSettings,
    ) -> None:
        self.n_items = n_items
        self.settings = settings
        self.reference_time = reference_time
        self._times_bought = times_bought
        self._decayed = decayed
        self._last = last
        self._updated: dict[int, _Row] = {}
        self._unit_rows = _unit_rows(decayed) if settings.neighbours > 0 else None

    @property
    def n_users(self) -> int:
        """Customers fitted (positions from here on are unknown customers with empty rows)."""
        return int(self._decayed.shape[0])

    @classmethod
    def fit(
        cls,
        user_idx: ArrayLike,
        item_idx: ArrayLike,
        timestamps: ArrayLike,
        weights: ArrayLike | None = None,
        *,
        n_users: int | None = None,
        n_items: int | None = None,
        settings: RepeatSettings = RepeatSettings(),
    ) -> RepeatModel:
        """Sum each customer's positive-weight purchases per item, decayed to the latest event time."""
        users = np.asarray(user_idx, dtype=np.int64)
        items = np.asarray(item_idx, dtype=np.int64)
        moments = np.asarray(timestamps, dtype=float)
        values = np.ones(users.size) if weights is None else np.asarray(weights, dtype=float)
        kept = values > 0
        users, items, moments, values = users[kept], items[kept], moments[kept], values[kept]
        shape = (
            n_users if n_users is not None else int(users.max(initial=-1)) + 1,
            n_items if n_items is not None else int(items.max(initial=-1)) + 1,
        )
        reference = float(moments.max(initial=0.0))
        factor = _decay(moments - reference, settings.half_life_days)
        order = np.lexsort((moments, items, users))
        users, items, moments, values = (
            users[order],
            items[order],
            moments[order],
            values[order] * factor[order],
        )
        new_cell = np.ones(users.size, dtype=bool)
        new_cell[1:] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
        starts = np.flatnonzero(new_cell)
        ends = np.r_[starts[1:], users.size] - 1
        indptr = np.searchsorted(users[starts], np.arange(shape[0] + 1))
        layout = (items[starts], indptr)
        times_bought = sp.csr_matrix((np.diff(np.r_[starts, users.size]).astype(float), *layout), shape=shape)
        decayed = sp.csr_matrix(
            (np.add.reduceat(values, starts) if starts.size else values[:0], *layout), shape=shape
        )
        last = sp.csr_matrix((moments[ends], *layout), shape=shape)
        return cls(shape[1], times_bought, decayed, last, reference, settings)

    def scores(self, user: int) -> np.ndarray:
        """Scores over all items: the customer's decayed frequencies, mixed with neighbours' if set."""
        row = self._row(user)
        own = np.zeros(self.n_items)
        own[row.items] = row.decayed
        if self._unit_rows is None or row.items.size == 0:
            return own
        norm = float(np.linalg.norm(row.decayed))
        unit = own / norm
        similarity = self._unit_rows @ unit
        if user < similarity.size:
            similarity[user] = -np.inf
        count = min(self.settings.neighbours, int(np.count_nonzero(similarity > 0)))
        if count == 0:
            return unit
        nearest = top_k(similarity, count)
        smoothed = np.asarray(self._unit_rows[nearest].mean(axis=0)).ravel()
        alpha = self.settings.own_weight
        return alpha * unit + (1.0 - alpha) * smoothed

    def top_k(self, user: int, k: int, min_times: int = 1, allowed: np.ndarray | None = None) -> np.ndarray:
        """Positions of the k best-scored items (score > 0), best first; own items need min_times buys."""
        scores = self.scores(user)
        keep = scores > 0
        if min_times > 1:
            row = self._row(user)
            keep[row.items[row.times_bought < min_times]] = False
        return top_k(scores, k, keep if allowed is None else keep & allowed)

    def update(
        self, user: int, item_idx: ArrayLike, timestamps: ArrayLike, weights: ArrayLike | None = None
    ) -> None:
        """Add one customer's new events without refitting (neighbours keep their fitted rows)."""
        items = np.asarray(item_idx, dtype=np.int64)
        moments = np.asarray(timestamps, dtype=float)
        values = np.ones(items.size) if weights is None else np.asarray(weights, dtype=float)
        kept = values > 0
        items, moments, values = items[kept], moments[kept], values[kept]
        if items.size and items.max() >= self.n_items:
            raise ValueError("item position beyond the fitted catalog")
        self._updated[user] = self._merged(self._row(user), items, moments, values)

    def reason(self, user: int, item: int, now: float) -> RepeatReason | None:
        """Times bought and days since the last purchase (None: the customer never bought it)."""
        row = self._row(user)
        at = int(np.searchsorted(row.items, item))
        if at == row.items.size or row.items[at] != item:
            return None
        return RepeatReason(int(row.times_bought[at]), (now - float(row.last[at])) / DAY)

    def recall(
        self,
        user: int,
        k: int,
        *,
        new_items: Collection[int] = (),
        now: float,
        min_times: int = 1,
        hidden: Sequence[Collection[int]] = (),
        within: np.ndarray | None = None,
    ) -> list[Remembered]:
        """The customer's own k best items by decayed frequency (ties: latest first), read-only.

        new_items were each bought once more at `now` (choices since the fit, not yet in the model);
        items in any of `hidden`, outside `within`, or bought fewer than min_times are left out.
        """
        row = self._row(user)
        if new_items:
            bought = np.fromiter(new_items, dtype=np.int64, count=len(new_items))
            moments = np.full(bought.size, now)
            row = self._merged(row, bought, moments, np.ones(bought.size))
        order = np.lexsort((-row.last, -row.decayed))
        found: list[Remembered] = []
        for at in order.tolist():
            if len(found) == k:
                break
            position, times = int(row.items[at]), int(row.times_bought[at])
            if times < min_times or any(position in group for group in hidden):
                continue
            if within is not None and not within[position]:
                continue
            reason = RepeatReason(times, (now - float(row.last[at])) / DAY)
            found.append(Remembered(position, float(row.decayed[at]), reason))
        return found

    def save(self) -> bytes:
        """The fitted state as npz bytes (no pickled objects); updates since the fit are not kept."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            shape=np.array(self._decayed.shape, dtype=np.int64),
            indptr=self._decayed.indptr,
            indices=self._decayed.indices,
            times_bought=self._times_bought.data,
            decayed=self._decayed.data,
            last=self._last.data,
            reference_time=np.array(self.reference_time),
            settings=np.array(
                [self.settings.half_life_days, self.settings.neighbours, self.settings.own_weight]
            ),
        )
        return buffer.getvalue()

    @classmethod
    def load(cls, data: bytes) -> RepeatModel:
        """A model from bytes written by save()."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            shape = (int(stored["shape"][0]), int(stored["shape"][1]))
            layout = (stored["indices"], stored["indptr"])
            half_life, neighbours, own_weight = stored["settings"].tolist()
            return cls(
                shape[1],
                sp.csr_matrix((stored["times_bought"], *layout), shape=shape),
                sp.csr_matrix((stored["decayed"], *layout), shape=shape),
                sp.csr_matrix((stored["last"], *layout), shape=shape),
                float(stored["reference_time"]),
                RepeatSettings(half_life, int(neighbours), own_weight),
            )

    def _merged(self, row: _Row, items: np.ndarray, moments: np.ndarray, values: np.ndarray) -> _Row:
        """A customer's row with events added (weights decayed to the reference time, capped)."""
        merged = np.union1d(row.items, items)
        times_bought = np.zeros(merged.size)
        decayed = np.zeros(merged.size)
        last = np.full(merged.size, -np.inf)
        old = np.searchsorted(merged, row.items)
        times_bought[old], decayed[old], last[old] = row.times_bought, row.decayed, row.last
        new = np.searchsorted(merged, items)
        weights = np.minimum(_decay(moments - self.reference_time, self.settings.half_life_days), _MAX_WEIGHT)
        np.add.at(times_bought, new, 1.0)
        np.add.at(decayed, new, values * weights)
        np.maximum.at(last, new, moments)
        return _Row(merged, times_bought, decayed, last)

    def _row(self, user: int) -> _Row:
        """The customer's row: updated if it was, else as fitted (empty when unknown)."""
        updated = self._updated.get(user)
        if updated is not None:
            return updated
        if user >= self._decayed.shape[0]:
            empty = np.empty(0)
            return _Row(np.empty(0, dtype=np.int64), empty, empty, empty)
        span = slice(self._decayed.indptr[user], self._decayed.indptr[user + 1])
        return _Row(
            self._decayed.indices[span].astype(np.int64),
            self._times_bought.data[span],
            self._decayed.data[span],
            self._last.data[span],
        )


def blend_lists(repeat: Sequence[int], discovery: Sequence[int], k: int, discovery_slots: int) -> list[int]:
    """The repeat list up to k - discovery_slots, then discovery items not already in it, to k."""
    chosen = list(repeat[: max(0, k - discovery_slots)])
    taken = set(chosen)
    for item in discovery:
        if len(chosen) >= k:
            break
        if item not in taken:
            chosen.append(item)
            taken.add(item)
    return chosen


def _decay(age: np.ndarray, half_life_days: float) -> np.ndarray:
    """2^(age / half-life) for ages in seconds (age <= 0 in the past); 1 for an infinite half-life."""
    if math.isinf(half_life_days):
        return np.ones_like(age, dtype=float)
    return np.exp2(age / (half_life_days * DAY))


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit L2 norm (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)
