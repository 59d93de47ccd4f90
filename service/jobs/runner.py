"""Execute runs outside requests: claim, report progress, publish all results or none."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, Protocol

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import metrics
from service.db import session_scope, utcnow
from service.jobs import repository
from service.jobs.failures import log_failure, public_error
from service.jobs.leases import Leases
from service.jobs.models import Run

logger = logging.getLogger("tailorwise.jobs")
Progress = Callable[[float, str], None]
ProgressBar = Callable[[str], AbstractContextManager[Progress]]


class Job(Protocol):
    """The work of one kind of run: compute, then write results in the given session."""

    def __call__(self, engine: Engine, run: Run, progress: Progress) -> Callable[[Session], dict[str, Any]]:
        """Compute (reading through the engine) and return the writer of the results."""
        ...


class RetryLater(Exception):
    """A run stopped by a transient database error, to be tried again (its status stays running)."""


class LeaseLost(Exception):
    """A run failed meanwhile because its lease lapsed: its results are not published."""


def is_transient(error: BaseException) -> bool:
    """Whether an error is the database's passing trouble (a lost connection, a deadlock, a timeout)."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa.exc.OperationalError | psycopg.OperationalError)


def execute(
    engine: Engine,
    run_id: int,
    job: Job,
    echo: Progress | None = None,
    *,
    reclaim: bool = False,
    retry: bool = False,
) -> bool:
    """Run one queued run to the end; results and the success status commit together.

    The job's progress is stored with the run and, given `echo` (a CLI's progress bar), shown there too.
    `reclaim`: a retry of the run's own job may take it while it still says running. `retry`: a
    transient database error raises RetryLater instead of failing the run.
    """
    started = time.perf_counter()
    with session_scope(engine) as session:
        if not repository.claim(session, run_id, reclaim):
            return False
        run = repository.by_id(session, run_id)
        assert run is not None
        session.expunge(run)

    def progress(fraction: float, message: str) -> None:
        if echo is not None:
            echo(fraction, message)
        with session_scope(engine) as progress_session:
            repository.update_running(
                progress_session,
                run_id,
                progress=round(min(max(fraction, 0.0), 1.0), 4),
                message=message[:500],
            )

    try:
        write = job(engine, run, progress)
        with session_scope(engine) as session:
            summary = write(session)
            if not repository.update_running(
                session,
                run_id,
                status="succeeded",
                progress=1.0,
                message="done",
                summary=summary,
                finished_at=utcnow(),
            ):
                raise LeaseLost(run_id)
    except LeaseLost:
        logger.warning("run %s was failed by its lease meanwhile; its results are dropped", run_id)
        return False
    except Exception as exc:
        if retry and is_transient(exc):
            logger.warning("run %s met a transient database error (%s); retrying", run_id, type(exc).__name__)
            raise RetryLater(type(exc).__name__) from exc
        metrics.observe_run(run.kind, "failed", time.perf_counter() - started)
        log_failure(logger, run_id, exc)
        with session_scope(engine) as session:
            repository.update_running(
                session,
                run_id,
                status="failed",
                error=public_error(exc)[:2000],
                finished_at=utcnow(),
            )
        return False
    metrics.observe_run(run.kind, "succeeded", time.perf_counter() - started)
    return True


class JobRunner:
    """A single background thread per process that executes submitted runs in order, each leased."""

    def __init__(
        self, engine: Engine, jobs: Mapping[str, Job], heartbeat_seconds: float, lease_seconds: float
    ) -> None:
        self._engine = engine
        self._jobs = jobs
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tailorwise-job")
        self._leases = Leases(engine, heartbeat_seconds, lease_seconds, "all", self.submit)
        self._leases.start()

    def submit(self, run_id: int, kind: str) -> Future[bool]:
        """Queue a run of a kind for execution by that kind's job, holding its lease until it ends."""
        self._leases.hold(run_id)
        try:
            future = self._pool.submit(execute, self._engine, run_id, self._jobs[kind])
        except RuntimeError:
            self._leases.release(run_id)
            raise
        future.add_done_callback(lambda done: self._ended(run_id, done))
        return future

    def _ended(self, run_id: int, done: Future[bool]) -> None:
        """Release the run's lease; a run that could not even record its failure is left to the lease."""
        self._leases.release(run_id)
        error = None if done.cancelled() else done.exception()
        if error is not None:
            logger.warning("run %s stopped without its outcome stored (%s)", run_id, type(error).__name__)

    def shutdown(self) -> None:
        """Finish the current run and stop (runs still waiting are taken over once their lease lapses)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._leases.stop()
