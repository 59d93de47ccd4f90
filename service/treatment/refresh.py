"""The scoring run's per-customer step: values and observed engagement, written with its results."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.db import session_scope
from service.engagement import repository as engagement
from service.engagement.service import observation_rows
from service.jobs.models import Run
from service.treatment import repository
from service.treatment.tenant_settings import effective_settings
from service.treatment.valuation import value_rows


def prepare(engine: Engine, run: Run) -> Callable[[Session], None]:
    """Compute each profiled customer's value and signals; return the writer for the run's transaction."""
    with session_scope(engine) as session:
        values = value_rows(session, run, effective_settings(session, run.tenant_id))
        observations = observation_rows(session, run)

    def write(session: Session) -> None:
        live = repository.customer_ids(session, run.tenant_id)
        repository.replace_values(session, run.tenant_id, [r for r in values if r["customer_id"] in live])
        engagement.replace_observations(
            session, run.tenant_id, [r for r in observations if r["customer_id"] in live]
        )

    return write
