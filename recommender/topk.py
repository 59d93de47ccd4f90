"""Top-k selection, and ranked lists kept between requests so that a request only cuts one."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Set
from dataclasses import dataclass

import numpy as np


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
    if k < cost.size:
        candidates = np.argpartition(cost, k - 1)[:k]
        # argpartition keeps an arbitrary few of the items tied at the k-th cost: keep the first ones.
        boundary = cost[candidates].max()
        better = candidates[cost[candidates] < boundary]
        candidates = np.concatenate((better, np.flatnonzero(cost == boundary)[: k - better.size]))
    else:
        candidates = np.arange(cost.size)
    if allowed is not None and k == count:
        candidates = candidates[allowed[candidates]]
    return candidates[np.lexsort((candidates, cost[candidates]))]


@dataclass(frozen=True, eq=False)
class RankedList:
    """The best allowed items of one scoring, best first; complete when it holds every allowed item."""

    positions: np.ndarray
    scores: np.ndarray
    complete: bool

    @classmethod
    def of(cls, scores: np.ndarray, allowed: np.ndarray, depth: int) -> RankedList:
        """The `depth` best allowed items of a scoring, ordered exactly as top_k orders them."""
        positions = top_k(scores, depth, allowed)
        complete = positions.size == int(np.count_nonzero(allowed))
        return cls(positions.astype(np.int32), scores[positions], complete)

    def first(self, k: int, hidden: Set[int]) -> tuple[list[int], list[float]] | None:
        """The first k entries not hidden (top_k's pick with them disallowed); None if it falls short."""
        # Only the first k + len(hidden) entries are looked at: at most len(hidden) of them are hidden.
        end = k + len(hidden)
        head = self.positions[:end].tolist()
        kept = [n for n, position in enumerate(head) if position not in hidden][:k]
        if len(kept) < k and not self.complete:
            return None
        scores = self.scores[:end].tolist()
        return [head[n] for n in kept], [scores[n] for n in kept]


class RankedListMemo:
    """Ranked lists by key, built on first use; the oldest is dropped beyond `size` (0: keep none)."""

    # Used from one thread (a worker's event loop): lookups and insertions are not locked.

    def __init__(self, size: int, depth: int) -> None:
        self.size = size
        self.depth = depth
        self._lists: dict[Hashable, RankedList] = {}

    def get(self, key: Hashable, build: Callable[[int], RankedList]) -> RankedList:
        """The list kept for a key, or a new one from build(depth), then kept."""
        found = self._lists.get(key)
        if found is None:
            found = build(self.depth)
            if self.size > 0:
                if len(self._lists) >= self.size:
                    self._lists.pop(next(iter(self._lists)))
                self._lists[key] = found
        return found

    def __len__(self) -> int:
        return len(self._lists)
