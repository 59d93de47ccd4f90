"""The scoring run: every attribute scored (tailoring), then each customer's value and signals (treatment)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.jobs.models import Run
from service.jobs.runner import Progress
from service.tailoring.scoring import score_tenant
from service.treatment import refresh


def score_and_value(engine: Engine, run: Run, progress: Progress) -> Callable[[Session], dict[str, Any]]:
    """Score the attributes and value the customers; both are written in the run's one transaction."""
    write_results = score_tenant(engine, run, progress)
    write_customers = refresh.prepare(engine, run)

    def write(session: Session) -> dict[str, Any]:
        summary = write_results(session)
        write_customers(session)
        return summary

    return write
