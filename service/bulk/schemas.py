"""What a bulk batch did, row by row."""

from __future__ import annotations

from pydantic import BaseModel, Field


class InvalidRow(BaseModel):
    """A row that was skipped, and why."""

    line: int = Field(description="1-based line of an NDJSON body, or 1-based position in a JSON array.")
    reason: str


class SyncResult(BaseModel):
    """What a sync batch did, row by row."""

    created: int
    updated: int
    unchanged: int
    stale: int = Field(description="Older than the stored version, or lost to a newer row of the batch.")
    invalid: int
    invalid_rows: list[InvalidRow]
