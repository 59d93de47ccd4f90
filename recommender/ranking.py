"""Top-k selection, item filters and the personal -> segment -> popular fallback chain."""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from recommender.model import IdMap, TrainedModel
from recommender.topk import RankedList, RankedListMemo, top_k

_TIE_BREAK = 1e-6


class ServingPath(StrEnum):
    """Which list answered a request, from most to least personal."""

    PERSONAL = "personal"
    SEGMENT = "segment"
    POPULAR = "popular"


@dataclass(frozen=True)
class ItemFilter:
    """Per-request exclusions: items seen or explicitly excluded; an optional allow-list and mask."""

    seen: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    allowed: frozenset[str] | None = None
    within: np.ndarray | None = field(default=None, compare=False)

    def mask(self, items: IdMap) -> np.ndarray:
        """Boolean mask over the catalog: True where an item may be shown."""
        if self.allowed is None:
            mask = np.ones(len(items), dtype=bool)
        else:
            mask = np.zeros(len(items), dtype=bool)
            mask[list(items.known_positions(self.allowed))] = True
        mask[list(items.known_positions(self.seen | self.excluded))] = False
        return mask if self.within is None else mask & self.within

    def hidden(self, items: IdMap) -> set[int] | None:
        """Positions to skip in a ranked list; None when the filter narrows to an allow-list or mask."""
        if self.allowed is not None or self.within is not None:
            return None
        return items.known_positions(self.seen | self.excluded)


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


@dataclass(frozen=True)
class _Source:
    """Where a path's scores come from, the key its list is kept under (None: never), whose it is."""

    scores: Callable[[], np.ndarray]
    key: Hashable = None
    own: bool = False


class Recommender:
    """Serves top-k through personal -> segment -> popular and says which path answered."""

    # With kept_lists above 0, each list (a known customer's ranking, a segment's, the popular
    # one) is ranked once to list_depth items and kept; a request whose filter only hides items then
    # walks the head of the kept list instead of scoring and ranking the whole catalog. Answers are
    # the same either way: a list too short for a request falls back to the full ranking.

    def __init__(
        self,
        popularity: PopularityTable,
        model: TrainedModel | None = None,
        inactive: Iterable[str] = (),
        kept_lists: int = 0,
        list_depth: int = 200,
    ) -> None:
        if model is not None and model.items != popularity.items:
            raise ValueError("the model and the popularity table must share one item catalog")
        self.popularity = popularity
        self.model = model
        self.items = popularity.items
        self._active = np.ones(len(self.items), dtype=bool)
        self._active[list(self.items.known_positions(inactive))] = False
        self._lists = RankedListMemo(kept_lists, list_depth)

    def recommend(
        self,
        k: int,
        *,
        customer_id: str | None = None,
        preferences: Mapping[str, float] | None = None,
        segment: str | None = None,
        start: ServingPath = ServingPath.PERSONAL,
        item_filter: ItemFilter = ItemFilter(),
        hide_training_choices: bool = False,
    ) -> Recommendation:
        """The top-k active, unfiltered items from the most personal path available from start."""
        # hide_training_choices leaves out the items the customer chose in the model's training
        # events (the model keeps them), so a caller need only name the items chosen since.
        training = None
        if hide_training_choices and customer_id is not None and self.model is not None:
            training = self.model.seen_at_training(customer_id)
        skipped: list[str] = []
        if start == ServingPath.PERSONAL:
            source, note = self._personal_source(customer_id, preferences)
            if source is not None:
                return self._ranked(source, k, item_filter, training, ServingPath.PERSONAL, note)
            skipped.append(note)
        if start in (ServingPath.PERSONAL, ServingPath.SEGMENT):
            scores = None if segment is None else self.popularity.scores(segment)
            if scores is not None:
                note = _after(skipped, f"popular in segment {segment!r}")
                source = _Source(lambda: scores, (ServingPath.SEGMENT, segment))
                return self._ranked(source, k, item_filter, training, ServingPath.SEGMENT, note)
            skipped.append("no segment given" if segment is None else f"no list for {segment!r}")
        note = _after(skipped, "popular overall" if skipped else "popular overall, as the strategy requires")
        source = _Source(lambda: self.popularity.overall, ServingPath.POPULAR)
        return self._ranked(source, k, item_filter, training, ServingPath.POPULAR, note)

    def _personal_source(
        self, customer_id: str | None, preferences: Mapping[str, float] | None
    ) -> tuple[_Source | None, str]:
        model = self.model
        if model is None:
            return None, "no trained model"
        if customer_id is not None and model.knows(customer_id):
            own = _Source(lambda: model.score_user(customer_id), (ServingPath.PERSONAL, customer_id), True)
            return own, "the customer's own model ranking"
        scores = model.score_preferences(preferences) if preferences else None
        if scores is not None:
            return _Source(lambda: scores), "folded in from stated preferences (no events at training)"
        return None, "cold start: no events at training and no known stated preference"

    def _ranked(
        self,
        source: _Source,
        k: int,
        item_filter: ItemFilter,
        training: np.ndarray | None,
        path: ServingPath,
        reason: str,
    ) -> Recommendation:
        cut = self._cut_kept_list(source, k, item_filter, training)
        if cut is None:
            scores = source.scores()
            allowed = self._allowed(training) & item_filter.mask(self.items)
            found = top_k(scores, k, allowed)
            cut = found.tolist(), scores[found].tolist()
        positions, scores_of = cut
        return Recommendation(
            item_ids=self.items.ids_at(positions),
            scores=tuple(scores_of),
            path=path,
            reason=reason,
        )

    def _cut_kept_list(
        self, source: _Source, k: int, item_filter: ItemFilter, training: np.ndarray | None
    ) -> tuple[list[int], list[float]] | None:
        """The answer from the source's kept list, or None when it has none or it falls short."""
        if source.key is None or self._lists.size == 0:
            return None
        hidden = item_filter.hidden(self.items)
        if hidden is None:
            return None
        left_out = training if source.own else None
        if training is not None and not source.own:
            hidden.update(training.tolist())

        def build(depth: int) -> RankedList:
            return RankedList.of(source.scores(), self._allowed(left_out), depth)

        return self._lists.get((source.key, left_out is not None), build).first(k, hidden)

    def _allowed(self, left_out: np.ndarray | None) -> np.ndarray:
        """Active items, without the given positions."""
        if left_out is None:
            return self._active
        allowed = self._active.copy()
        allowed[left_out] = False
        return allowed


def _after(skipped: list[str], served: str) -> str:
    """A one-sentence reason: what served, after which paths were skipped."""
    return f"{served} ({'; '.join(skipped)})" if skipped else served


def _shares(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
