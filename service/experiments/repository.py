"""All queries of experiments: the experiments, exposures, and per-arm sufficient statistics in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.db import upsert_insert
from service.experiments.models import RUNNING, Experiment, Exposure
from service.holdouts import FirstExposure
from service.profiles.models import Customer
from service.tenancy.models import Tenant

EXPOSURES: sa.Table = Exposure.__table__  # type: ignore[attr-defined]


def add(session: Session, experiment: Experiment) -> Experiment:
    """Insert or update an experiment and return it with its id."""
    session.add(experiment)
    session.flush()
    return experiment


def get(session: Session, tenant_id: int, experiment_id: int) -> Experiment | None:
    """The tenant's experiment with this id."""
    return session.get(Experiment, (tenant_id, experiment_id))


def running_in_scope(session: Session, tenant_id: int, scope_key: str) -> Experiment | None:
    """The tenant's running experiment over a scope, if any."""
    query = select(Experiment).where(
        Experiment.tenant_id == tenant_id, Experiment.scope_key == scope_key, Experiment.status == RUNNING
    )
    return session.exec(query).first()


def page(session: Session, tenant_id: int, before_id: int | None, limit: int) -> Sequence[Experiment]:
    """A page of the tenant's experiments, newest first."""
    query = select(Experiment).where(Experiment.tenant_id == tenant_id)
    if before_id is not None:
        query = query.where(col(Experiment.id) < before_id)
    return session.exec(query.order_by(col(Experiment.id).desc()).limit(limit)).all()


def tenant_name(session: Session, tenant_id: int) -> str:
    """The tenant's name, the first part of the assignment hash's key."""
    tenant = session.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant.name


def serving_rows(session: Session, tenant_id: int | None) -> list[tuple[Experiment, str]]:
    """Running hash experiments and experiments with a verdict, each with its tenant's name."""
    query = (
        select(Experiment, Tenant.name)
        .join(Tenant, col(Tenant.id) == col(Experiment.tenant_id))
        .where(
            sa.or_(
                sa.and_(col(Experiment.status) == RUNNING, col(Experiment.assignment) == "hash"),
                col(Experiment.verdict).in_(("pays", "harms")),
            )
        )
        .order_by(col(Experiment.id))
    )
    if tenant_id is not None:
        query = query.where(Experiment.tenant_id == tenant_id)
    return [(experiment, name) for experiment, name in session.exec(query).all()]


@dataclass(frozen=True)
class KnownCustomer:
    """A customer's internal id and personalization consent."""

    id: int
    consent: bool


def customers_by_external_id(
    session: Session, tenant_id: int, external_ids: Sequence[str]
) -> dict[str, KnownCustomer]:
    """The tenant's customers among these external ids."""
    found: dict[str, KnownCustomer] = {}
    unique = list(dict.fromkeys(external_ids))
    for start in range(0, len(unique), 1_000):
        query = select(Customer.external_id, Customer.id, Customer.consent_personalization).where(
            Customer.tenant_id == tenant_id, col(Customer.external_id).in_(unique[start : start + 1_000])
        )
        for external_id, customer_id, consent in session.exec(query).all():
            found[external_id] = KnownCustomer(customer_id or 0, consent)
    return found


def exposed_customer_ids(session: Session, experiment_id: int, customer_ids: Sequence[int]) -> set[int]:
    """Which of these customers already have an exposure to the experiment."""
    found: set[int] = set()
    for start in range(0, len(customer_ids), 1_000):
        query = select(Exposure.customer_id).where(
            Exposure.experiment_id == experiment_id,
            col(Exposure.customer_id).in_(customer_ids[start : start + 1_000]),
        )
        found.update(session.exec(query).all())
    return found


def insert_exposures(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert exposures; a customer's existing (first) exposure is kept."""
    if rows:
        statement = upsert_insert(session, EXPOSURES).on_conflict_do_nothing()
        session.execute(statement, rows)


def write_first_exposures(session: Session, exposures: Sequence[FirstExposure]) -> None:
    """Store buffered first exposures of customers who still exist and consent."""
    by_tenant: dict[int, list[FirstExposure]] = {}
    for exposure in exposures:
        by_tenant.setdefault(exposure.tenant_id, []).append(exposure)
    # Every writer inserts in one order (tenant, experiment, customer), so workers flushing the same new
    # exposures at once wait for each other instead of deadlocking.
    for tenant_id, batch in sorted(by_tenant.items()):
        known = customers_by_external_id(session, tenant_id, [e.external_id for e in batch])
        rows = [
            {
                "experiment_id": e.experiment_id,
                "customer_id": known[e.external_id].id,
                "tenant_id": tenant_id,
                "arm": e.arm,
                "exposed_at": e.exposed_at,
            }
            for e in batch
            if e.external_id in known and known[e.external_id].consent
        ]
        live = set(
            session.exec(
                select(Experiment.id).where(col(Experiment.id).in_({e.experiment_id for e in batch}))
            )
        )
        kept = sorted(
            (row for row in rows if row["experiment_id"] in live),
            key=lambda row: (row["experiment_id"], row["customer_id"]),
        )
        insert_exposures(session, kept)


def exposures_of(session: Session, tenant_id: int, customer_id: int) -> Sequence[Exposure]:
    """A customer's exposures (for the GDPR export)."""
    query = select(Exposure).where(Exposure.tenant_id == tenant_id, Exposure.customer_id == customer_id)
    return session.exec(query.order_by(col(Exposure.experiment_id))).all()


def erase_exposures(session: Session, tenant_id: int, customer_id: int) -> int:
    """Delete a customer's exposures; how many there were."""
    rows = exposures_of(session, tenant_id, customer_id)
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
