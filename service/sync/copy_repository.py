"""PostgreSQL fast path of the customer merge: rows COPYed into staging, merged part by part if sorted."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import orjson
from sqlmodel import Session

from service.bulk.copy_format import copy_text
from service.bulk.driver import driver_connection
from service.bulk.lww import MergeCounts, Winners
from service.db import utcnow
from service.sync.merge_repository import Merge, Upsert
from service.sync.rows import CustomerRow

# A batch in key order is merged in parts, each sent to the server while the next is read; parts end
# between two keys, so every version of a customer lands in one part. The first parts are small, so the
# server starts early; each is as long as all before it, up to PART_ROWS.
FIRST_PART_ROWS = 250
PART_ROWS = 2_000
# Every this many rows read, those not yet staged are written to the COPY, unless an upsert is running.
SLICE_ROWS = 125
BACKSLASH = "\\"


def copy_line(line: int, row: CustomerRow) -> str:
    """One row in COPY text format (JSON from orjson has no raw control characters, only backslashes)."""
    if row.preferences is None:
        preferences = "\\N"
    else:
        objects = [{"attribute": a, "value": v, "weight": w, "source": s} for a, v, w, s in row.preferences]
        preferences = orjson.dumps(objects).decode().replace("\\", "\\\\")
    return (
        f"{line}\t{copy_text(row.external_id)}\t{row.traits_json.replace(BACKSLASH, BACKSLASH * 2)}\t"
        f"{'t' if row.consent_personalization else 'f'}\t{'t' if row.consent_profiling else 'f'}\t"
        f"{preferences}\t{row.source_updated_at_text}\n"
    )


def part_end(start: int) -> int:
    """Where a part starting at this row ends: as long as all parts before it, within the bounds."""
    return start + min(PART_ROWS, max(FIRST_PART_ROWS, start))


class CustomerCopy:
    """Customer rows staged by COPY and merged by last writer wins.

    While the rows arrive in key order, each full part is upserted on the server as the next part is
    read and streamed into the COPY, so parsing and merging overlap, and customers are still locked in
    key order. The first row out of order undoes those parts (back to a savepoint): the whole batch is
    then merged at the end in one statement sorted by key, as an unsorted batch always is.
    """

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.with_preferences = False
        self.in_order = True
        self._last = ""
        self._lines: list[str] = []
        self._copied = 0
        self._next_slice = SLICE_ROWS
        self._part_start = 0
        self._part_end = part_end(0)
        self._part_first_line = 0
        self._part_winners = Winners()
        self._part_preferences = False
        self._parts_sent = 0
        self._created = 0
        self._written = 0

    def __enter__(self) -> CustomerCopy:
        """Set up the staging tables."""
        self._merge = Merge(driver_connection(self.session), self.tenant_id, utcnow())
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """End what is still open on the connection and free the cursors."""
        self._merge.close(kind, error, trace)

    def add(self, line: int, row: CustomerRow) -> None:
        """Stage one row; a sorted batch sends its parts on as they fill."""
        key = row.external_id
        if self.in_order:
            if key < self._last:
                self._lose_order()
            elif key != self._last and len(self._lines) >= self._part_end:
                self._send_part()
        if self.in_order:
            if len(self._lines) == self._part_start:
                self._part_first_line = line
            self._part_winners.offer(key, row.source_updated_at, line)
            self._part_preferences = self._part_preferences or row.preferences is not None
        self._lines.append(copy_line(line, row))
        self._last = key
        self.with_preferences = self.with_preferences or row.preferences is not None
        if len(self._lines) >= self._next_slice:
            self._next_slice = len(self._lines) + SLICE_ROWS
            self._stream()

    def _stream(self) -> None:
        """Write the rows read so far into the COPY, unless an upsert is still running on the server."""
        if self._merge.busy():
            return
        self._tally(*self._merge.collect())
        self._write_pending()

    def _write_pending(self) -> None:
        """Write the rows not yet staged into the COPY."""
        self._merge.write(self._lines[self._copied :])
        self._copied = len(self._lines)

    def _tally(self, created: int, written: int) -> None:
        """Count what a part did."""
        self._created += created
        self._written += written

    def _part(self) -> Upsert:
        """The part being read, as an upsert in key order."""
        return Upsert(self._part_first_line, self._part_winners.losers, True, self._part_preferences)

    def _send_part(self) -> None:
        """Stage the part read and send its upsert; the next part starts."""
        self._tally(*self._merge.collect())
        self._write_pending()
        self._merge.send(self._part(), first_part=self._parts_sent == 0)
        self._parts_sent += 1
        self._part_start = len(self._lines)
        self._part_end = part_end(self._part_start)
        self._part_winners = Winners()
        self._part_preferences = False

    def _lose_order(self) -> None:
        """A row out of key order: undo the parts merged so far; everything merges at the end."""
        self.in_order = False
        if self._parts_sent:
            self._merge.restart()
            self._copied = self._created = self._written = 0

    def merge(self, losers: Sequence[int]) -> MergeCounts:
        """Merge what is left (every staged row but the losers if the batch was not sorted), then count."""
        self._tally(*self._merge.collect())
        self._write_pending()
        if self.in_order:
            self._tally(*self._merge.upsert(self._part()))
        else:
            self._tally(*self._merge.upsert(Upsert(0, list(losers), False, self.with_preferences)))
        winners = len(self._lines) - len(losers)
        return self._merge.finish(self._created, self._written, winners, self.with_preferences)
