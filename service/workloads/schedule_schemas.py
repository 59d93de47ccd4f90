"""Schedules as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from service.jobs.timing import valid_cron


class SchedulePut(BaseModel):
    """A cron expression (UTC; `0 2 * * *`: nightly at 02:00) or an interval in seconds, not both."""

    cron: str | None = Field(default=None, min_length=9, max_length=100)
    every_seconds: int | None = Field(default=None, ge=60, le=366 * 86_400)

    @model_validator(mode="after")
    def _one_of(self) -> SchedulePut:
        """Exactly one of cron and every_seconds, and a cron expression that reads."""
        if (self.cron is None) == (self.every_seconds is None):
            raise ValueError("give exactly one of cron and every_seconds")
        if self.cron is not None and not valid_cron(self.cron):
            raise ValueError(f"not a cron expression: {self.cron!r}")
        return self


class SchedulePublic(BaseModel):
    """A tenant's schedule of one kind of run."""

    kind: str
    cron: str | None
    every_seconds: int | None
    next_run_at: datetime
    last_run_id: int | None
    updated_by: str
    updated_at: datetime
