"""How an API process starts runs: enqueue them for workers (PostgreSQL) or run them on its own thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sqlalchemy.engine import Engine

from service.config import Settings
from service.jobs.queue import QueueDispatcher
from service.jobs.runner import JobRunner
from service.workloads.kinds import JOBS
from service.workloads.schedules import fire_due

logger = logging.getLogger("tailorwise.jobs")


class Dispatcher(Protocol):
    """What routers hand a queued run to."""

    def submit(self, run_id: int, kind: str) -> object:
        """Have the run executed."""
        ...

    def shutdown(self) -> None:
        """Stop."""
        ...


def runs_dispatcher(settings: Settings, engine: Engine) -> Dispatcher:
    """The queue when runs execute in workers, else this process's runner thread."""
    if settings.runs_in_worker:
        return QueueDispatcher(engine, settings.database_url)
    return JobRunner(engine, JOBS, settings.run_heartbeat_seconds, settings.run_lease_seconds)


class ScheduleTimer:
    """Fires due schedules from an API process that runs its runs itself (no workers to do it)."""

    def __init__(self, engine: Engine, settings: Settings, dispatcher: Dispatcher) -> None:
        self._engine = engine
        self._settings = settings
        self._dispatcher = dispatcher
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin checking every `schedule_poll_seconds`."""
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        """Stop checking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._settings.schedule_poll_seconds)
            try:
                for run_id, kind in await asyncio.to_thread(fire_due, self._engine, self._settings):
                    self._dispatcher.submit(run_id, kind)
            except Exception as error:
                logger.warning("firing schedules failed (%s); trying again", type(error).__name__)
