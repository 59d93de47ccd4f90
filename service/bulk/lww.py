"""Last writer wins: which version of a row stands, by the source's own timestamp."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_NEVER = datetime.min.replace(tzinfo=UTC)


class Outcome(StrEnum):
    """What a bulk row did to the stored row."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    stale = "stale"


def outcome(exists: bool, stored: datetime | None, incoming: datetime | None, same: bool) -> Outcome:
    """An older row never overwrites a newer one; an identical one changes nothing."""
    if not exists:
        return Outcome.created
    if stored is not None and incoming is not None and incoming < stored:
        return Outcome.stale
    return Outcome.unchanged if same else Outcome.updated


class Winners:
    """Per key, the row of a batch that stands: greatest source_updated_at, ties to the later line."""

    def __init__(self) -> None:
        self._best: dict[str, tuple[bool, datetime, int]] = {}
        self.losers: list[int] = []

    def offer(self, key: str, source_updated_at: datetime | None, line: int) -> None:
        """Consider a row; lines must come in increasing order."""
        rank = (source_updated_at is not None, source_updated_at or _NEVER, line)
        best = self._best.get(key)
        if best is None:
            self._best[key] = rank
        elif rank > best:
            self.losers.append(best[2])
            self._best[key] = rank
        else:
            self.losers.append(line)


@dataclass(frozen=True)
class MergeCounts:
    """What a merge of the winning rows did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> MergeCounts:
        """Counts of a list of outcomes."""
        return cls(**{kind.value: sum(1 for o in outcomes if o is kind) for kind in Outcome})
