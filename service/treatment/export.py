"""The per-customer rows of treatment and engagement, for the GDPR export."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.engagement import repository as engagement
from service.treatment import repository

INTERNAL = {"customer_id", "tenant_id"}


def personal_data(session: Session, tenant_id: int, customer_id: int) -> dict[str, Any]:
    """The customer's value row and engagement rows as plain JSON."""
    value = repository.value_of(session, tenant_id, customer_id)
    return {
        "customer_value": None if value is None else value.model_dump(mode="json", exclude=INTERNAL),
        "engagement_preferences": [
            p.model_dump(mode="json", exclude=INTERNAL)
            for p in engagement.preferences_of(session, tenant_id, customer_id)
        ],
        "engagement_observations": [
            o.model_dump(mode="json", exclude=INTERNAL)
            for o in engagement.observations_of(session, tenant_id, customer_id)
        ],
    }
