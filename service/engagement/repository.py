"""All queries of engagement: stated preferences, observations, and the signal counts in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.engagement.models import EngagementObservation, EngagementPreference
from service.engagement.rules import ABANDONED, CALLED, COMPLETED, JOURNEY_PHASE, LATEST_SIGNALS, SIGNAL_TYPES

# Each profiled customer's latest signals per journey phase, counted by type.
_SIGNAL_COUNTS = sa.text(f"""
    WITH ranked AS (
        SELECT e.customer_id, e.value AS phase, e.type,
               ROW_NUMBER() OVER (
                   PARTITION BY e.customer_id, e.value ORDER BY e.occurred_at DESC, e.id DESC
               ) AS position
        FROM events e JOIN customers c ON c.tenant_id = e.tenant_id AND c.id = e.customer_id
        WHERE e.tenant_id = :tenant_id AND c.tenant_id = :tenant_id AND c.consent_profiling
          AND e.attribute = '{JOURNEY_PHASE}' AND e.type IN :types
    )
    SELECT customer_id, phase,
           SUM(CASE WHEN type = '{COMPLETED}' THEN 1 ELSE 0 END),
           SUM(CASE WHEN type = '{ABANDONED}' THEN 1 ELSE 0 END),
           SUM(CASE WHEN type = '{CALLED}' THEN 1 ELSE 0 END)
    FROM ranked WHERE position <= :latest
    GROUP BY customer_id, phase
""").bindparams(sa.bindparam("types", expanding=True))


def signal_counts(session: Session, tenant_id: int) -> list[tuple[int, str, int, int, int]]:
    """(customer id, phase, completed, abandoned, called) of every profiled customer and phase."""
    params = {"tenant_id": tenant_id, "types": list(SIGNAL_TYPES), "latest": LATEST_SIGNALS}
    return [
        (int(c), str(p), int(a), int(b), int(d)) for c, p, a, b, d in session.execute(_SIGNAL_COUNTS, params)
    ]


def replace_observations(session: Session, tenant_id: int, rows: list[dict[str, Any]]) -> None:
    """Delete the tenant's observations and insert the given rows instead."""
    session.execute(sa.delete(EngagementObservation).where(col(EngagementObservation.tenant_id) == tenant_id))
    if rows:
        session.execute(sa.insert(EngagementObservation), rows)


def preferences_of(session: Session, tenant_id: int, customer_id: int) -> Sequence[EngagementPreference]:
    """A customer's stated preferences by phase."""
    query = select(EngagementPreference).where(
        EngagementPreference.tenant_id == tenant_id, EngagementPreference.customer_id == customer_id
    )
    return session.exec(query.order_by(col(EngagementPreference.journey_phase))).all()


def observations_of(session: Session, tenant_id: int, customer_id: int) -> Sequence[EngagementObservation]:
    """A customer's observations by phase."""
    query = select(EngagementObservation).where(
        EngagementObservation.tenant_id == tenant_id, EngagementObservation.customer_id == customer_id
    )
    return session.exec(query.order_by(col(EngagementObservation.journey_phase))).all()


def replace_preferences(
    session: Session, tenant_id: int, customer_id: int, rows: list[dict[str, Any]]
) -> None:
    """Delete a customer's stated preferences and insert the given rows instead."""
    session.execute(
        sa.delete(EngagementPreference).where(
            col(EngagementPreference.tenant_id) == tenant_id,
            col(EngagementPreference.customer_id) == customer_id,
        )
    )
    if rows:
        session.execute(sa.insert(EngagementPreference), rows)
