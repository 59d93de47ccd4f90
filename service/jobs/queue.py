"""The run queue in PostgreSQL (procrastinate): what a queued run's job is, and how API processes enqueue."""

from __future__ import annotations

import logging

import procrastinate
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.db import session_scope, utcnow
from service.jobs import repository

logger = logging.getLogger("tailorwise.jobs")
RUN_TASK = "tailorwise.run"
QUEUE = "runs"


def conninfo(database_url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (its options, such as search_path, kept)."""
    return sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(database_url: str, *, sync: bool = False) -> procrastinate.App:
    """A procrastinate app on the database: an async pool for workers, a small sync one for enqueueing."""
    if sync:
        connector: procrastinate.BaseConnector = procrastinate.SyncPsycopgConnector(
            conninfo=conninfo(database_url), min_size=0, max_size=2
        )
    else:
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    return procrastinate.App(connector=connector)


def lock_of(run_id: int) -> str:
    """The queueing lock of a run's job: one waiting job per run."""
    return f"run-{run_id}"


class QueueDispatcher:
    """Enqueues runs for `tailorwise worker` processes: the API process never computes one."""

    def __init__(self, engine: Engine, database_url: str) -> None:
        self._engine = engine
        self._app = queue_app(database_url, sync=True)
        self._app.open()

    def submit(self, run_id: int, kind: str) -> None:
        """Enqueue a queued run; if that fails the run is failed (it would otherwise wait forever)."""
        try:
            task = self._app.configure_task(RUN_TASK, queue=QUEUE, queueing_lock=lock_of(run_id))
            task.defer(run_id=run_id)
        except procrastinate.exceptions.AlreadyEnqueued:
            return
        except Exception as error:
            logger.error("run %s could not be enqueued: %s", run_id, type(error).__name__)
            with session_scope(self._engine) as session:
                repository.update(
                    session,
                    run_id,
                    status="failed",
                    error=f"The run could not be enqueued ({type(error).__name__}); start it again.",
                    finished_at=utcnow(),
                )

    def shutdown(self) -> None:
        """Close the queue's connections."""
        self._app.close()
