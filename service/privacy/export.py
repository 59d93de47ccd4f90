"""The per-customer rows held beyond the profile (value, engagement, relationships), for the GDPR export."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel

from service.engagement import repository as engagement
from service.experiments import repository as experiments
from service.relationships import repository as relationships
from service.treatment import repository as treatment

INTERNAL = {"customer_id", "tenant_id"}


def plain(row: SQLModel) -> dict[str, Any]:
    """A row as JSON in column order, without internal ids."""
    values = row.model_dump(mode="json")
    columns = row.__table__.columns  # type: ignore[attr-defined]
    return {c.name: values[c.name] for c in columns if c.name not in INTERNAL}


def personal_data(session: Session, tenant_id: int, customer_id: int) -> dict[str, Any]:
    """The customer's value, engagement, stated relationship rows and experiment exposures as plain JSON."""
    value = treatment.value_of(session, tenant_id, customer_id)
    return {
        "customer_value": None if value is None else plain(value),
        "engagement_preferences": [
            plain(p) for p in engagement.preferences_of(session, tenant_id, customer_id)
        ],
        "engagement_observations": [
            plain(o) for o in engagement.observations_of(session, tenant_id, customer_id)
        ],
        "experiment_exposures": [plain(x) for x in experiments.exposures_of(session, tenant_id, customer_id)],
        "relationship_preferences": [
            plain(p) for p in relationships.preferences_of(session, tenant_id, customer_id)
        ],
    }
