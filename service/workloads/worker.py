"""`tailorwise worker`: execute queued runs from the PostgreSQL queue, fire due schedules, reap lost runs.

Each run's job is taken by one worker (procrastinate locks it). Workers beat every
`worker_heartbeat_seconds`; a job whose worker missed beats for `worker_lease_seconds` is retried
(the run's next attempt takes it over) or, after `run_attempts` tries, failed along with its run, by
whichever live worker looks next: within the lease plus one heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import time

import procrastinate
from procrastinate.jobs import Status
from sqlalchemy.engine import Engine

from service import metrics
from service.config import Settings
from service.db import create_db_engine, session_scope, utcnow
from service.jobs import repository, runner
from service.jobs.leases import Leases
from service.jobs.queue import QUEUE, RUN_TASK, lock_of, queue_app
from service.workloads.kinds import JOBS
from service.workloads.schedules import fire_due

logger = logging.getLogger("tailorwise.worker")


def worker_app(settings: Settings, engine: Engine) -> procrastinate.App:
    """The queue app with the run task: execute the run's job, retried on transient database errors."""
    app = queue_app(settings.database_url)
    retry: bool | procrastinate.RetryStrategy = False
    if settings.run_attempts > 1:
        retry = procrastinate.RetryStrategy(
            max_attempts=settings.run_attempts - 1, exponential_wait=2, retry_exceptions={runner.RetryLater}
        )

    @app.task(name=RUN_TASK, queue=QUEUE, pass_context=True, retry=retry)
    def run(context: procrastinate.JobContext, run_id: int) -> None:
        """Execute one run; a retry of its job takes over a run left running by the previous try."""
        with session_scope(engine) as session:
            kind = repository.kind_of(session, run_id)
        if kind is None or kind not in JOBS:
            return
        attempt = context.job.attempts
        runner.execute(
            engine, run_id, JOBS[kind], reclaim=attempt > 0, retry=attempt + 1 < settings.run_attempts
        )

    return app


def fail_lost(engine: Engine, run_id: int, lease: float) -> None:
    """Fail a run whose worker stopped on its last try."""
    with session_scope(engine) as session:
        repository.update(
            session,
            run_id,
            status="failed",
            error=f"Its worker stopped (no heartbeat for {lease:g} s) on the last allowed try.",
            finished_at=utcnow(),
        )


async def reap(app: procrastinate.App, engine: Engine, settings: Settings) -> int:
    """Retry or fail the runs of workers that stopped beating; how many were found."""
    lease = settings.worker_lease_seconds
    stalled = list(await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=lease))
    for job in stalled:
        run_id = int(str(job.task_kwargs["run_id"]))
        try:
            if job.attempts + 1 < settings.run_attempts:
                await app.job_manager.retry_job(job)
                logger.warning("run %s lost its worker; retried", run_id)
            else:
                await app.job_manager.finish_job(job, Status.FAILED, delete_job=False)
                await asyncio.to_thread(fail_lost, engine, run_id, lease)
                logger.warning("run %s lost its worker on its last try; failed", run_id)
        except procrastinate.exceptions.ConnectorException:
            logger.info("run %s was reaped by another worker", run_id)
    return len(stalled)


async def fire_schedules(app: procrastinate.App, engine: Engine, settings: Settings) -> None:
    """Queue and enqueue the runs of due schedules."""
    for run_id, _kind in await asyncio.to_thread(fire_due, engine, settings):
        task = app.configure_task(RUN_TASK, queue=QUEUE, queueing_lock=lock_of(run_id))
        await task.defer_async(run_id=run_id)


async def upkeep(app: procrastinate.App, engine: Engine, settings: Settings) -> None:
    """Reap lost runs (workers', leased ones) every heartbeat, fire schedules every poll period."""
    last_fired = -float("inf")
    leases = Leases(engine, settings.run_heartbeat_seconds, settings.run_lease_seconds, "leased")
    while True:
        try:
            await reap(app, engine, settings)
            await asyncio.to_thread(leases.beat)
            if time.monotonic() - last_fired >= settings.schedule_poll_seconds:
                last_fired = time.monotonic()
                await fire_schedules(app, engine, settings)
        except Exception as error:
            logger.warning("worker upkeep failed (%s); trying again", type(error).__name__)
        await asyncio.sleep(settings.worker_heartbeat_seconds)


async def work(settings: Settings) -> None:
    """Run a worker until SIGTERM or SIGINT (the run in progress finishes first)."""
    engine = create_db_engine(settings)
    metrics.watch_pool(engine)
    app = worker_app(settings, engine)
    async with app.open_async():
        keeping = asyncio.create_task(upkeep(app, engine, settings))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=settings.worker_concurrency,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_lease_seconds,
                delete_jobs="successful",
            )
        finally:
            keeping.cancel()
            engine.dispose()
