"""All queries of treatment: settings, touchpoints, customer values and the reads of a scoring run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.engagement.models import EngagementObservation, EngagementPreference
from service.profiles.models import Customer, Event
from service.relationships.models import RelationshipPreference, RelationshipSettings
from service.treatment.models import CustomerValue, Touchpoint, TreatmentSettings
from service.treatment.rfm import Purchases


def get_settings(session: Session, tenant_id: int) -> TreatmentSettings | None:
    """The tenant's stored treatment settings."""
    return session.get(TreatmentSettings, tenant_id)


def save(session: Session, row: TreatmentSettings | Touchpoint) -> None:
    """Insert or update a settings or touchpoint row."""
    session.add(row)
    session.flush()


def get_touchpoint(session: Session, tenant_id: int, name: str) -> Touchpoint | None:
    """The tenant's touchpoint with this name."""
    query = select(Touchpoint).where(Touchpoint.tenant_id == tenant_id, Touchpoint.name == name)
    return session.exec(query).first()


def list_touchpoints(session: Session, tenant_id: int) -> Sequence[Touchpoint]:
    """The tenant's touchpoints by name."""
    query = select(Touchpoint).where(Touchpoint.tenant_id == tenant_id).order_by(col(Touchpoint.name))
    return session.exec(query).all()


def delete_touchpoint(session: Session, touchpoint: Touchpoint) -> None:
    """Delete a touchpoint."""
    session.delete(touchpoint)
    session.flush()


@dataclass(frozen=True)
class TreatmentView:
    """A touchpoint, the tenant's settings, the customer with its value, engagement and relationship there."""

    touchpoint: Touchpoint
    settings: TreatmentSettings | None
    customer: Customer | None
    value: CustomerValue | None
    stated: EngagementPreference | None
    observed: EngagementObservation | None
    relationship_settings: RelationshipSettings | None
    relationship_stated: RelationshipPreference | None


def _treatment_view() -> sa.Select:
    """The statement behind treatment_view, built once; binds tenant_id, touchpoint and external_id."""
    tenant = Touchpoint.tenant_id
    same_customer = (CustomerValue, EngagementPreference, EngagementObservation, RelationshipPreference)
    value, stated, observed, relationship = (
        sa.and_(col(t.customer_id) == Customer.id, col(t.tenant_id) == tenant) for t in same_customer
    )
    customer = sa.and_(
        col(Customer.tenant_id) == tenant, col(Customer.external_id) == sa.bindparam("external_id")
    )
    return (
        sa.select(
            Touchpoint,
            TreatmentSettings,
            Customer,
            *same_customer[:3],
            RelationshipSettings,
            RelationshipPreference,
        )
        .outerjoin(TreatmentSettings, col(TreatmentSettings.tenant_id) == tenant)
        .outerjoin(Customer, customer)
        .outerjoin(CustomerValue, value)
        .outerjoin(
            EngagementPreference,
            sa.and_(stated, col(EngagementPreference.journey_phase) == Touchpoint.journey_phase),
        )
        .outerjoin(
            EngagementObservation,
            sa.and_(observed, col(EngagementObservation.journey_phase) == Touchpoint.journey_phase),
        )
        .outerjoin(RelationshipSettings, col(RelationshipSettings.tenant_id) == tenant)
        .outerjoin(
            RelationshipPreference,
            sa.and_(relationship, col(RelationshipPreference.journey_phase) == Touchpoint.journey_phase),
        )
        .where(
            col(Touchpoint.tenant_id) == sa.bindparam("tenant_id"),
            col(Touchpoint.name) == sa.bindparam("name"),
        )
    )


_TREATMENT_VIEW = _treatment_view()


def treatment_view(
    session: Session, tenant_id: int, touchpoint: str, external_id: str
) -> TreatmentView | None:
    """Everything a treatment decision reads besides the tailoring plan, in one indexed read."""
    params = {"tenant_id": tenant_id, "name": touchpoint, "external_id": external_id}
    row = session.execute(_TREATMENT_VIEW, params).first()
    return None if row is None else TreatmentView(*row)


def value_of(session: Session, tenant_id: int, customer_id: int) -> CustomerValue | None:
    """A customer's stored value row."""
    query = select(CustomerValue).where(
        CustomerValue.tenant_id == tenant_id, CustomerValue.customer_id == customer_id
    )
    return session.exec(query).first()


def profiled_customers(session: Session, tenant_id: int, trait: str | None) -> list[tuple[int, Any]]:
    """(id, the trait's raw value or None) of every customer who consented to profiling."""
    table = Customer.__table__  # type: ignore[attr-defined]
    trait_column = table.c.traits[trait] if trait else sa.null()
    query = sa.select(table.c.id, trait_column).where(
        table.c.tenant_id == tenant_id, table.c.consent_profiling.is_(True)
    )
    return [(int(i), raw) for i, raw in session.execute(query)]


def purchases(session: Session, tenant_id: int, types: list[str]) -> Purchases:
    """The tenant's purchase events as arrays (customer id, weight, epoch seconds)."""
    table = Event.__table__  # type: ignore[attr-defined]
    query = sa.select(table.c.customer_id, table.c.weight, table.c.occurred_at).where(
        table.c.tenant_id == tenant_id, table.c.type.in_(types)
    )
    rows = session.execute(query).all()
    return Purchases(
        customer=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        weight=np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows)),
        at=np.fromiter((r[2].timestamp() for r in rows), dtype=np.float64, count=len(rows)),
    )


def customer_ids(session: Session, tenant_id: int) -> set[int]:
    """The ids of the tenant's customers now."""
    table = Customer.__table__  # type: ignore[attr-defined]
    return {int(i) for (i,) in session.execute(sa.select(table.c.id).where(table.c.tenant_id == tenant_id))}


def replace_values(session: Session, tenant_id: int, rows: list[dict[str, Any]]) -> None:
    """Delete the tenant's customer values and insert the given rows instead."""
    session.execute(sa.delete(CustomerValue).where(col(CustomerValue.tenant_id) == tenant_id))
    if rows:
        session.execute(sa.insert(CustomerValue), rows)


def value_tier_counts(session: Session, tenant_id: int, edges: Sequence[float]) -> dict[int, int]:
    """How many valued customers fall in each tier: tier i holds top shares up to edges[i] percent."""
    top = 100.0 - col(CustomerValue.percentile)
    tier = sa.case(*((top <= edge, index) for index, edge in enumerate(edges)), else_=len(edges)).label(
        "tier"
    )
    query = (
        sa.select(tier, sa.func.count())
        .where(col(CustomerValue.tenant_id) == tenant_id, col(CustomerValue.source) != "none")
        .group_by(tier)
    )
    return {int(index): int(count) for index, count in session.execute(query)}


def customers_without_value(session: Session, tenant_id: int) -> int:
    """Profiled customers the value trait is missing for (source none)."""
    query = sa.select(sa.func.count()).where(
        col(CustomerValue.tenant_id) == tenant_id, col(CustomerValue.source) == "none"
    )
    return int(session.execute(query).scalar_one())
