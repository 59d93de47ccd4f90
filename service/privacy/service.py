"""Export and erasure of one customer, composed from every domain that holds their data."""

from __future__ import annotations

from sqlmodel import Session

from service.audit import service as audit
from service.auth import Caller
from service.experiments import repository as experiments
from service.privacy.export import personal_data
from service.privacy.schemas import CustomerExport, ErasureResult
from service.profiles import service as profiles
from service.recommendations import service as recommendations


def export_customer(session: Session, tenant_id: int, external_id: str) -> CustomerExport:
    """Everything stored about a customer."""
    customer = profiles.require_customer(session, tenant_id, external_id)
    return CustomerExport(
        customer=profiles.get_customer(session, tenant_id, external_id),
        events=profiles.events_of(session, customer),
        extra=personal_data(session, tenant_id, customer.id or 0)
        | {"model": recommendations.held_in_models(session, tenant_id, external_id)},
    )


def erase_customer(
    session: Session, tenant_id: int, caller: Caller | None, external_id: str
) -> ErasureResult:
    """Delete a customer and everything owned, stored models included; the audit keeps counts only."""
    customer = profiles.require_customer(session, tenant_id, external_id)
    exposures = experiments.erase_exposures(session, tenant_id, customer.id or 0)
    counts = {**profiles.erase_profile(session, tenant_id, customer), "experiment_exposures": exposures}
    counts["model_entries"] = recommendations.forget_customer(session, tenant_id, external_id)
    audit.record(session, tenant_id, caller, "customer.erased", None, None, counts)
    return ErasureResult(external_id=external_id, deleted=counts)
