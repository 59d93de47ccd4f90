"""The treatment settings in force: the tenant's stored row, or the built-in defaults."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.treatment import repository
from service.treatment.models import TreatmentSettings

AUDITED = ("value_trait", "purchase_types", "recency_half_life_days", "default_engagement_mode", "exit_ramp")


def effective_settings(session: Session, tenant_id: int) -> TreatmentSettings:
    """The tenant's stored settings, or the defaults."""
    return repository.get_settings(session, tenant_id) or TreatmentSettings(tenant_id=tenant_id)


def settings_dict(settings: TreatmentSettings) -> dict[str, Any]:
    """The audited fields of the settings."""
    return {name: getattr(settings, name) for name in AUDITED}
