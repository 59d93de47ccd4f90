"""Top-k selection, item filters and the personal -> segment -> popular fallback chain."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from recommender.model import IdMap, TrainedModel

_TIE_BREAK = 1e-6


class ServingPath(StrEnum):
    """Which list answered a request, from most to least personal."""

    PERSONAL = "personal"
    SEGMENT = "segment"
    POPULAR = "popular"


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k highest allowed scores, best first, ties by position.

    Disallowed items are pushed to the end in one pass instead of gathering the allowed ones first:
    over a large catalog that saves an index array and a gather as long as the catalog.
    """
    count = scores.size if allowed is None else int(np.count_nonzero(allowed))
    k = min(k, count)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    # Negated, so that the k sought sit at the front: selecting there stays fast when most scores tie
    # (a popularity list is mostly zeros), which selecting at the back of the order does not.
    cost = -scores if allowed is None else np.where(allowed, -scores, np.inf)
    candidates = np.argpartition(cost, k - 1)[:k] if k < cost.size else np.arange(cost.size)
    if allowed is not None and k == count:
        candidates = candidates[allowed[candidates]]
    return candidates[np.lexsort((candidates, cost[candidates]))]


@dataclass(frozen=True)
class ItemFilter:
    """Per-request exclusions: items seen or explicitly excluded, and an optional allow-list."""

    seen: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    allowed: frozenset[str] | None = None

    def mask(self, items: IdMap) -> np.ndarray:
        """Boolean mask over the catalog: True where an item may be shown."""
        if self.allowed is None:
            mask = np.ones(len(items), dtype=bool)
        else:
            mask = np.zeros(len(items), dtype=bool)
            mask[_known_positions(items, self.allowed)] = True
        mask[_known_positions(items, self.seen | self.excluded)] = False
        return mask


@dataclass(frozen=True, eq=False)
class PopularityTable:
    """Precomputed popular list overall and per customer segment, over one item catalog."""

    items: IdMap
    overall: np.ndarray
    segments: IdMap
    by_segment: np.ndarray

    def scores(self, segment: str | None = None) -> np.ndarray | None:
        """Popularity scores overall, or for a segment (None if the segment has no list)."""
        if segment is None:
            return self.overall
        if segment not in self.segments:
            return None
        return self.by_segment[self.segments.position(segment)]

    def save(self) -> bytes:
        """The table as npz bytes (no pickled objects)."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            items=self.items.ids,
            overall=self.overall,
            segments=self.segments.ids,
            by_segment=self.by_segment,
        )
        return buffer.getvalue()

    @classmethod
    def load(cls, data: bytes) -> PopularityTable:
        """A table from bytes written by save()."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return cls(
                items=IdMap(stored["items"].tolist()),
                overall=stored["overall"],
                segments=IdMap(stored["segments"].tolist()),
                by_segment=stored["by_segment"],
            )


def build_popularity(
    items: IdMap,
    customer_ids: ArrayLike,
    item_ids: ArrayLike,
    weights: ArrayLike | None = None,
    customer_segments: Mapping[str, str] | None = None,
) -> PopularityTable:
    """Summed event weight per item, overall and per segment; events on unknown items ignored."""
    customers = np.asarray(customer_ids).astype(str)
    positions = items.positions(np.asarray(item_ids).astype(str))
    values = np.ones(customers.size) if weights is None else np.asarray(weights, dtype=float)
    known = positions >= 0
    customers, positions, values = customers[known], positions[known], values[known]
    overall = np.bincount(positions, weights=values, minlength=len(items))

    labels = customer_segments or {}
    event_segments = np.array([labels.get(c, "") for c in customers.tolist()], dtype=str)
    segments = IdMap.of(label for label in event_segments.tolist() if label)
    by_segment = np.zeros((len(segments), len(items)))
    segment_rows = segments.positions(event_segments)
    labelled = segment_rows >= 0
    np.add.at(by_segment, (segment_rows[labelled], positions[labelled]), values[labelled])
    # Segment shares plus a tiny multiple of overall shares: ties break by overall popularity.
    by_segment = _shares(by_segment) + _TIE_BREAK * _shares(overall[None, :])
    return PopularityTable(items=items, overall=overall, segments=segments, by_segment=by_segment)


@dataclass(frozen=True)
class Recommendation:
    """Items to show, best first, with the path that served them and why."""

    item_ids: tuple[str, ...]
    scores: tuple[float, ...]
    path: ServingPath
    reason: str


class Recommender:
    """Serves top-k through personal -> segment -> popular and says which path answered."""

    def __init__(
        self,
        popularity: PopularityTable,
        model: TrainedModel | None = None,
        inactive: Iterable[str] = (),
    ) -> None:
        if model is not None and model.items != popularity.items:
            raise ValueError("the model and the popularity table must share one item catalog")
        self.popularity = popularity
        self.model = model
        self.items = popularity.items
        self._active = np.ones(len(self.items), dtype=bool)
        self._active[_known_positions(self.items, inactive)] = False

    def recommend(
        self,
        k: int,
        *,
        customer_id: str | None = None,
        preferences: Mapping[str, float] | None = None,
        segment: str | None = None,
        start: ServingPath = ServingPath.PERSONAL,
        item_filter: ItemFilter = ItemFilter(),
    ) -> Recommendation:
        """The top-k active, unfiltered items from the most personal path available from start."""
        allowed = self._active & item_filter.mask(self.items)
        skipped: list[str] = []
        if start == ServingPath.PERSONAL:
            scores, note = self._personal_scores(customer_id, preferences)
            if scores is not None:
                return self._ranked(scores, k, allowed, ServingPath.PERSONAL, note)
            skipped.append(note)
        if start in (ServingPath.PERSONAL, ServingPath.SEGMENT):
            scores = None if segment is None else self.popularity.scores(segment)
            if scores is not None:
                note = f"popular in segment {segment!r}"
                return self._ranked(scores, k, allowed, ServingPath.SEGMENT, _after(skipped, note))
            skipped.append("no segment given" if segment is None else f"no list for {segment!r}")
        note = "popular overall" if skipped else "popular overall, as the strategy requires"
        return self._ranked(self.popularity.overall, k, allowed, ServingPath.POPULAR, _after(skipped, note))

    def _personal_scores(
        self, customer_id: str | None, preferences: Mapping[str, float] | None
    ) -> tuple[np.ndarray | None, str]:
        if self.model is None:
            return None, "no trained model"
        if customer_id is not None and self.model.knows(customer_id):
            return self.model.score_user(customer_id), "the customer's own model ranking"
        scores = self.model.score_preferences(preferences) if preferences else None
        if scores is not None:
            return scores, "folded in from stated preferences (no events at training)"
        return None, "cold start: no events at training and no known stated preference"

    def _ranked(
        self, scores: np.ndarray, k: int, allowed: np.ndarray, path: ServingPath, reason: str
    ) -> Recommendation:
        positions = top_k(scores, k, allowed)
        return Recommendation(
            item_ids=tuple(self.items.ids[positions].tolist()),
            scores=tuple(float(s) for s in scores[positions]),
            path=path,
            reason=reason,
        )


def _after(skipped: list[str], served: str) -> str:
    """A one-sentence reason: what served, after which paths were skipped."""
    return f"{served} ({'; '.join(skipped)})" if skipped else served


def _known_positions(items: IdMap, external_ids: Iterable[str]) -> np.ndarray:
    positions = items.positions(external_ids)
    return positions[positions >= 0]


def _shares(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
