"""When a schedule fires next: a cron expression (UTC) or a fixed interval."""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter


def valid_cron(expression: str) -> bool:
    """Whether a cron expression can be read (five fields, or six with seconds)."""
    return bool(croniter.is_valid(expression))


def next_time(cron: str | None, every_seconds: int | None, after: datetime) -> datetime:
    """The first time after `after` that a cron expression names, or `after` plus the interval."""
    if cron is not None:
        return croniter(cron, after).get_next(datetime)
    assert every_seconds is not None
    return after + timedelta(seconds=every_seconds)
