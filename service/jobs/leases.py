"""Leases of runs executed by an API process or the CLI: renewed by a heartbeat, lost when it stops.

A process renews the lease of every run it holds (waiting on its runner or running there) every
heartbeat, to `lease_seconds` from now. A queued or running run whose lease passed (its process died,
or lost the database for longer than the lease) is failed with an error saying so; a queued one is
instead taken over by a process that executes runs itself, since nothing of it has started.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine

from service.db import session_scope, utcnow
from service.jobs import repository

logger = logging.getLogger("tailorwise.jobs")
# Which lapsed runs a process reaps: none (the CLI), those that held a lease (beside workers, whose
# queued runs wait unleased in the queue), or all (runs execute in API processes: a run never leased
# is lost once older than the lease).
Reaping = Literal["none", "leased", "all"]
# Executes a run of a kind, holding its lease.
TakeOver = Callable[[int, str], object]


def lost_error(lease_seconds: float) -> str:
    """The error of a run failed by its lease: the cause, no data."""
    return (
        f"The process executing the run stopped or lost the database (no heartbeat for "
        f"{lease_seconds:g} s); start it again."
    )


class Leases:
    """The runs this process holds, renewed by a heartbeat thread that also reaps lapsed runs."""

    def __init__(
        self,
        engine: Engine,
        heartbeat_seconds: float,
        lease_seconds: float,
        reaping: Reaping,
        take_over: TakeOver | None = None,
    ) -> None:
        self._engine = engine
        self._heartbeat = heartbeat_seconds
        self._lease = lease_seconds
        self._reaping = reaping
        self._take_over = take_over
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, run_id: int) -> None:
        """Renew this run's lease from now on."""
        with self._lock:
            self._held.add(run_id)

    def release(self, run_id: int) -> None:
        """Stop renewing this run's lease."""
        with self._lock:
            self._held.discard(run_id)

    def start(self) -> None:
        """Beat now (reaping what lapsed while no process looked), then every heartbeat."""
        self._thread = threading.Thread(
            target=self._beat_until_stopped, name="tailorwise-leases", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop beating; held runs lapse after the lease unless another beat renews them."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self._heartbeat + 10)

    def _beat_until_stopped(self) -> None:
        while True:
            try:
                self.beat()
            except Exception as error:
                logger.warning("run leases were not renewed (%s); trying again", type(error).__name__)
            if self._stopping.wait(self._heartbeat):
                return

    def beat(self, now: datetime | None = None) -> list[int]:
        """Renew the held runs' leases, then fail or take over lapsed runs; the ids reaped."""
        now = now or utcnow()
        with self._lock:
            held = set(self._held)
        with session_scope(self._engine) as session:
            repository.renew(session, held, now + timedelta(seconds=self._lease))
        if self._reaping == "none":
            return []
        unleased_before = now - timedelta(seconds=self._lease) if self._reaping == "all" else None
        with session_scope(self._engine) as session:
            lapsed = repository.lapsed(session, now, unleased_before)
        reaped = []
        for run_id, kind, status in lapsed:
            if run_id not in held and self._reap(run_id, kind, status, now, unleased_before):
                reaped.append(run_id)
        return reaped

    def _reap(
        self, run_id: int, kind: str, status: str, now: datetime, unleased_before: datetime | None
    ) -> bool:
        """Take over a lapsed queued run (when this process executes runs), else fail it; whether done."""
        if status == "queued" and self._take_over is not None:
            until = now + timedelta(seconds=self._lease)
            with session_scope(self._engine) as session:
                taken = repository.take_lapsed(
                    session, run_id, status, now, unleased_before, lease_until=until
                )
            if taken:
                self._take_over(run_id, kind)
                logger.warning("run %s was queued by a process that stopped; taken over", run_id)
            return taken
        with session_scope(self._engine) as session:
            failed = repository.take_lapsed(
                session,
                run_id,
                status,
                now,
                unleased_before,
                status="failed",
                error=lost_error(self._lease),
                finished_at=now,
            )
        if failed:
            logger.warning("run %s lost its process or database (lease lapsed); failed", run_id)
        return failed
