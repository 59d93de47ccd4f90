"""The experiments' background worker: writes buffered first exposures in batches, refreshes the registry.

Loss bound: first exposures wait in memory at most `experiments_flush_seconds` (default 1 s) before a
batch write; a graceful shutdown writes what is left, a crash loses at most the last interval's first
exposures (a lost customer is recorded again, later, at their next serving).
"""

from __future__ import annotations

import logging
import threading
import time

import anyio
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.db import session_scope
from service.experiments import registry, repository
from service.holdouts import Holdouts

logger = logging.getLogger("tailorwise")


class ExperimentsWorker:
    """Writes first exposures every `flush_seconds`; reloads running experiments every `refresh_seconds`."""

    def __init__(
        self, engine: Engine, holdouts: Holdouts, flush_seconds: float, refresh_seconds: float
    ) -> None:
        self._engine = engine
        self._holdouts = holdouts
        self._flush_seconds = flush_seconds
        self._refresh_seconds = refresh_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load the registry now (later, if the database is down), then work in a background thread."""
        try:
            self.refresh()
        except SQLAlchemyError as error:
            logger.warning("running experiments not loaded yet (%s): retried shortly", type(error).__name__)
        self._thread = threading.Thread(target=self._loop, name="tailorwise-experiments", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Stop the thread and write every exposure still buffered."""
        self._stop.set()
        if self._thread is not None:
            await anyio.to_thread.run_sync(self._thread.join, 30)
        await anyio.to_thread.run_sync(self.flush)

    def refresh(self) -> None:
        """Reload every tenant's running experiments and verdicts."""
        registry.reload(self._engine, self._holdouts)

    def flush(self) -> int:
        """Write the buffered first exposures in one transaction; put them back if it fails."""
        pending = self._holdouts.drain()
        if not pending:
            return 0
        try:
            with session_scope(self._engine) as session:
                repository.write_first_exposures(session, pending)
        except SQLAlchemyError as error:
            logger.warning(
                "writing %d first exposures failed (%s); kept for the next flush",
                len(pending),
                type(error).__name__,
            )
            self._holdouts.requeue(pending)
            return 0
        return len(pending)

    def _loop(self) -> None:
        """Flush often, refresh less often, until stopped."""
        next_refresh = time.monotonic() + self._refresh_seconds
        while not self._stop.wait(self._flush_seconds):
            self.flush()
            if time.monotonic() >= next_refresh:
                try:
                    self.refresh()
                except SQLAlchemyError as error:
                    logger.warning("reloading running experiments failed (%s)", type(error).__name__)
                next_refresh = time.monotonic() + self._refresh_seconds
