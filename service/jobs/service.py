"""Runs as resources: read one, page through a kind, or run one to the end outside HTTP."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.db import session_scope
from service.errors import Conflict, NotFound, TailorwiseError
from service.jobs import repository, runner
from service.jobs.leases import Leases
from service.jobs.models import Run
from service.pagination import cursor_id, id_page
from service.schemas import Page
from service.tenancy import repository as tenants


def add_run(session: Session, run: Run) -> Run:
    """Stage a queued run, or a 409 naming the run of its kind already queued or running."""
    added = repository.add(session, run)
    if added is not None:
        return added
    busy = repository.active(session, run.tenant_id, run.kind)
    which = f"run {busy.id} is {busy.status}" if busy is not None else "another run is active"
    raise Conflict(f"A {run.kind} run is already in progress: {which}. Start again once it ends.")


def get_run(session: Session, tenant_id: int, kind: str, run_id: int) -> Run:
    """The tenant's run of a kind, or a 404."""
    run = repository.get(session, tenant_id, kind, run_id)
    if run is None:
        raise NotFound(f"No {kind} run {run_id}.")
    return run


def active_runs(session: Session, tenant_id: int) -> list[Run]:
    """The tenant's queued and running runs of every kind."""
    return list(repository.active_of_tenant(session, tenant_id))


def runs_page(session: Session, tenant_id: int, kind: str, cursor: str | None, limit: int) -> Page[Run]:
    """The tenant's runs of a kind, newest first, a page at a time."""
    return id_page(repository.page(session, tenant_id, kind, cursor_id(cursor), limit), limit, list)


def run_inline(
    engine: Engine,
    tenant_name: str,
    queue: Callable[[Session, int], Run],
    job: runner.Job,
    progress: runner.ProgressBar,
    settings: Settings,
) -> tuple[int, Run]:
    """Queue a run for a named tenant and execute it here (leased) with a progress bar; raises if it fails."""
    with session_scope(engine) as session:
        tenant = tenants.get_tenant_by_name(session, tenant_name)
        if tenant is None or tenant.id is None:
            raise NotFound(f"No tenant named {tenant_name!r}.")
        tenant_id = tenant.id
        queued = queue(session, tenant_id)
        run_id, kind = queued.id or 0, queued.kind
    leases = Leases(engine, settings.run_heartbeat_seconds, settings.run_lease_seconds, "none")
    leases.hold(run_id)
    leases.start()
    try:
        with progress(kind) as report:
            runner.execute(engine, run_id, job, report)
    finally:
        leases.stop()
    with session_scope(engine) as session:
        run = repository.by_id(session, run_id)
        if run is None or run.status != "succeeded":
            raise TailorwiseError(f"The {kind} run failed: {run.error if run else 'unknown error'}")
        session.expunge(run)
    return tenant_id, run
