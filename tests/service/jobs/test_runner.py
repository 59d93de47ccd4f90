"""Executing runs: claimed once, results and success committed together, a failure recorded and raised."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.db import session_scope
from service.errors import TailorwiseError
from service.jobs import repository, runner
from service.jobs.models import Run
from service.jobs.service import run_inline, runs_page


def queued(db, tenant_id: int, kind: str = "scoring", status: str = "queued") -> int:
    """A run of the tenant (queued unless said otherwise: one queued or running run per kind)."""
    with session_scope(db.engine) as session:
        added = repository.add(session, Run(tenant_id=tenant_id, kind=kind, params={}, requested_by="test"))
        assert added is not None and added.id is not None
        added.status = status
        return added.id


def succeeding(engine: Engine, run: Run, progress: runner.Progress) -> Callable[[Session], dict[str, Any]]:
    """A job that reports progress and publishes a summary."""
    progress(0.5, "halfway")
    return lambda session: {"answer": 42}


def failing(engine: Engine, run: Run, progress: runner.Progress) -> Callable[[Session], dict[str, Any]]:
    """A job that fails before writing anything."""
    raise ValueError("no data to score")


def queue_scoring(session: Session, tenant_id: int) -> Run | None:
    """Queue a scoring run, as the API would."""
    return repository.add(session, Run(tenant_id=tenant_id, kind="scoring", params={}, requested_by="test"))


def stored(db, run_id: int) -> Run:
    """The run as stored now."""
    with session_scope(db.engine) as session:
        run = repository.by_id(session, run_id)
        assert run is not None
        session.expunge(run)
        return run


def test_a_run_is_claimed_once_and_publishes_with_its_status(db, acme: int) -> None:
    run_id = queued(db, acme)
    assert runner.execute(db.engine, run_id, succeeding)
    assert not runner.execute(db.engine, run_id, succeeding)
    run = stored(db, run_id)
    assert run.status == "succeeded" and run.progress == 1.0 and run.summary == {"answer": 42}


def test_a_failed_run_is_recorded_and_an_inline_run_raises(db, acme: int) -> None:
    run_id = queued(db, acme)
    assert not runner.execute(db.engine, run_id, failing)
    run = stored(db, run_id)
    assert run.status == "failed" and run.error is not None and "ValueError" in run.error

    with pytest.raises(TailorwiseError, match="run failed"):
        run_inline(
            db.engine,
            "acme",
            queue_scoring,
            failing,
            lambda _kind: nullcontext(lambda _f, _m: None),
            Settings(environment="test"),
        )


def test_runs_are_paged_newest_first(db, acme: int) -> None:
    ids = [queued(db, acme)] + [queued(db, acme, kind="training", status="succeeded") for _ in range(2)]
    with session_scope(db.engine) as session:
        page = runs_page(session, acme, "training", None, 1)
        assert [r.id for r in page.items] == [ids[2]] and page.next_cursor is not None
        rest = runs_page(session, acme, "training", page.next_cursor, 5)
        assert [r.id for r in rest.items] == [ids[1]] and rest.next_cursor is None


def stepping(engine: Engine, run: Run, progress: runner.Progress) -> Callable[[Session], dict[str, Any]]:
    """A job that reports each of many small steps."""
    for step in range(1, 51):
        progress(step / 50, f"step {step}/50")
    return lambda session: {}


def test_an_inline_run_moves_its_progress_bar_step_by_step(db, acme: int) -> None:
    shown: list[tuple[float, str]] = []

    def bar(_kind: str) -> Any:
        return nullcontext(lambda fraction, message: shown.append((fraction, message)))

    run_inline(db.engine, "acme", queue_scoring, stepping, bar, Settings(environment="test"))
    assert shown == [(step / 50, f"step {step}/50") for step in range(1, 51)]
