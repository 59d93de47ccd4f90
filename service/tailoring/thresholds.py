"""The thresholds in force: tenant defaults, overridden per attribute."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from recommender.decision import Thresholds
from service.tailoring import repository
from service.tailoring.models import TailoringSettings


def effective_settings(session: Session, tenant_id: int) -> TailoringSettings:
    """The tenant's stored settings, or the built-in defaults."""
    return or_defaults(repository.get_settings(session, tenant_id), tenant_id)


def or_defaults(stored: TailoringSettings | None, tenant_id: int) -> TailoringSettings:
    """Settings already read, or the built-in defaults when the tenant has stored none."""
    return stored or TailoringSettings(tenant_id=tenant_id)


def thresholds_for(settings: TailoringSettings, attribute: Any) -> Thresholds:
    """The bar for one attribute: its own f, u, c, mode and tau override over the tenant's defaults."""
    return Thresholds(
        tau=settings.tau if attribute.tau is None else attribute.tau,
        f=attribute.f,
        u=attribute.u,
        c=attribute.c,
        min_customers=settings.min_customers,
        min_events_per_customer=settings.min_events_per_customer,
        mode=attribute.mode,
    )
