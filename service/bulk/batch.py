"""Running one bulk batch: count and check its rows, pick the winner per key, merge, report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from service.bulk.bodies import Malformed, Record
from service.bulk.checks import RowError
from service.bulk.lww import MergeCounts, Winners
from service.bulk.schemas import InvalidRow, SyncResult
from service.errors import PayloadTooLarge


class Keyed(Protocol):
    """A checked row: the id it is merged on and the source's timestamp."""

    @property
    def key(self) -> str:
        """The id the row is merged on."""
        ...

    @property
    def source_updated_at(self) -> datetime | None:
        """The source's own timestamp of this version."""
        ...


RowT = TypeVar("RowT", bound=Keyed)
RowT_contra = TypeVar("RowT_contra", bound=Keyed, contravariant=True)


class Stage(Protocol[RowT_contra]):
    """Where checked rows wait until the batch is merged in one go."""

    def add(self, line: int, row: RowT_contra) -> None:
        """Stage one row."""
        ...

    def merge(self, losers: Sequence[int]) -> MergeCounts:
        """Merge every staged row except those of the losing lines."""
        ...


def run_batch(
    records: Iterable[Record], check: Callable[[Any], RowT], stage: Stage[RowT], max_rows: int
) -> SyncResult:
    """Check each row on its own, stage the good ones, merge them; more than max_rows is a 413."""
    winners = Winners()
    invalid: list[InvalidRow] = []
    count = 0
    for line, raw in records:
        count += 1
        if count > max_rows:
            raise PayloadTooLarge(f"A batch holds at most {max_rows} rows.")
        try:
            if type(raw) is Malformed:
                raise RowError(raw.reason)
            row = check(raw)
        except RowError as exc:
            invalid.append(InvalidRow(line=line, reason=str(exc)))
            continue
        winners.offer(row.key, row.source_updated_at, line)
        stage.add(line, row)
    merged = stage.merge(winners.losers)
    return SyncResult(
        created=merged.created,
        updated=merged.updated,
        unchanged=merged.unchanged,
        stale=merged.stale + len(winners.losers),
        invalid=len(invalid),
        invalid_rows=invalid,
    )
