"""The run resource that scoring and training runs share."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class RunStatus(StrEnum):
    """Where a run is."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class RunPublic(BaseModel):
    """A run as a status resource."""

    id: int
    status: RunStatus
    progress: float = Field(description="0 to 1.")
    message: str | None
    error: str | None
    params: dict[str, Any]
    summary: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
