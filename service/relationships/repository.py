"""All queries of relationships: settings, stated preferences, and one customer's relationship events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.profiles.models import Event
from service.relationships.models import RelationshipPreference, RelationshipSettings
from service.relationships.rules import DECLINES, JOURNEY_PHASE, PREFIX

# One customer's choices of a type per phase, and declines per phase, with the latest time of each.
_EVENTS = (
    sa.select(
        col(Event.attribute),
        col(Event.value),
        col(Event.type),
        sa.func.sum(col(Event.weight)),
        sa.func.max(col(Event.occurred_at)),
    )
    .where(
        col(Event.tenant_id) == sa.bindparam("tenant_id"),
        col(Event.customer_id) == sa.bindparam("customer_id"),
        sa.or_(
            col(Event.attribute).startswith(PREFIX, autoescape=True),
            sa.and_(col(Event.attribute) == JOURNEY_PHASE, col(Event.type).in_(list(DECLINES))),
        ),
    )
    .group_by(col(Event.attribute), col(Event.value), col(Event.type))
)

EventSummary = tuple[str, str, str, float, datetime]


def relationship_events(session: Session, tenant_id: int, customer_id: int) -> list[EventSummary]:
    """(attribute, value, type, summed weight, latest time) of the customer's relationship events."""
    rows = session.execute(_EVENTS, {"tenant_id": tenant_id, "customer_id": customer_id})
    return [(str(a), str(v), str(t), float(w), at) for a, v, t, w, at in rows]


def get_settings(session: Session, tenant_id: int) -> RelationshipSettings | None:
    """The tenant's stored relationship settings."""
    return session.get(RelationshipSettings, tenant_id)


def save_settings(session: Session, settings: RelationshipSettings) -> None:
    """Insert or update the tenant's relationship settings."""
    session.add(settings)
    session.flush()


def preferences_of(session: Session, tenant_id: int, customer_id: int) -> Sequence[RelationshipPreference]:
    """A customer's stated relationship types by phase."""
    query = select(RelationshipPreference).where(
        RelationshipPreference.tenant_id == tenant_id, RelationshipPreference.customer_id == customer_id
    )
    return session.exec(query.order_by(col(RelationshipPreference.journey_phase))).all()


def replace_preferences(
    session: Session, tenant_id: int, customer_id: int, rows: list[dict[str, Any]]
) -> None:
    """Delete a customer's stated relationship types and insert the given rows instead."""
    session.execute(
        sa.delete(RelationshipPreference).where(
            col(RelationshipPreference.tenant_id) == tenant_id,
            col(RelationshipPreference.customer_id) == customer_id,
        )
    )
    if rows:
        session.execute(sa.insert(RelationshipPreference), rows)
