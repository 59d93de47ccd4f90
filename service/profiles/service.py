"""Rules of the profile store: create, replace, ingest, and the profile's part of export and erasure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from service.db import utcnow
from service.errors import Conflict, NotFound, PayloadTooLarge
from service.pagination import cursor_id, id_page
from service.profiles import event_repository, repository
from service.profiles.event_rows import check_events
from service.profiles.models import Customer, Event, Preference
from service.profiles.schemas import (
    Consent,
    CustomerPublic,
    CustomerPut,
    EventBatchResult,
    EventPublic,
    PreferencePublic,
    PreferencesPut,
)
from service.schemas import Page
from service.tenancy import repository as tenants


def default_consent(session: Session, tenant_id: int) -> dict[str, bool]:
    """The consent a customer gets when first seen through an event."""
    tenant = tenants.get_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound("Unknown tenant.")
    return {
        "consent_personalization": tenant.default_personalization_consent,
        "consent_profiling": tenant.default_profiling_consent,
    }


def to_public(customer: Customer, preferences: list[Preference]) -> CustomerPublic:
    """The caller's view of a customer."""
    return CustomerPublic(
        external_id=customer.external_id,
        traits=customer.traits,
        consent=Consent(
            personalization=customer.consent_personalization, profiling=customer.consent_profiling
        ),
        preferences=[PreferencePublic.model_validate(p, from_attributes=True) for p in preferences],
        source_updated_at=customer.source_updated_at,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


def require_customer(session: Session, tenant_id: int, external_id: str) -> Customer:
    """The tenant's customer, or a 404."""
    customer = repository.get_customer(session, tenant_id, external_id)
    if customer is None:
        raise NotFound(f"No customer {external_id!r}.")
    return customer


def get_customer(session: Session, tenant_id: int, external_id: str) -> CustomerPublic:
    """One customer with preferences."""
    customer = require_customer(session, tenant_id, external_id)
    return to_public(customer, list(repository.preferences_of(session, [customer.id or 0])))


def list_customers(session: Session, tenant_id: int, cursor: str | None, limit: int) -> Page[CustomerPublic]:
    """A page of customers, oldest first."""
    rows = repository.list_customers(session, tenant_id, cursor_id(cursor) or 0, limit)

    def public(page: Sequence[Customer]) -> list[CustomerPublic]:
        prefs: dict[int, list[Preference]] = {}
        for p in repository.preferences_of(session, [c.id for c in page if c.id is not None]):
            prefs.setdefault(p.customer_id, []).append(p)
        return [to_public(c, prefs.get(c.id or 0, [])) for c in page]

    return id_page(rows, limit, public)


def put_customer(
    session: Session, tenant_id: int, external_id: str, body: CustomerPut
) -> tuple[CustomerPublic, bool]:
    """Create or replace a customer's traits and consent (last writer wins); True when created."""
    consent = None
    if body.consent is not None:
        consent = {
            "consent_personalization": body.consent.personalization,
            "consent_profiling": body.consent.profiling,
        }
    values = {"traits": body.traits, "source_updated_at": body.source_updated_at}
    created = repository.upsert_customer(
        session, tenant_id, external_id, values, consent, default_consent(session, tenant_id)
    )
    if created is None:
        stored = require_customer(session, tenant_id, external_id).source_updated_at
        raise Conflict(
            f"Customer {external_id!r} was updated at {stored.isoformat() if stored else 'a later time'} "
            "by its source; this older write is stale and was not applied."
        )
    repository.record_changes(session, tenant_id, [external_id])
    return get_customer(session, tenant_id, external_id), created


def put_preferences(
    session: Session, tenant_id: int, external_id: str, body: PreferencesPut
) -> CustomerPublic:
    """Replace a customer's stated preferences (the last entry wins for a repeated value)."""
    customer = require_customer(session, tenant_id, external_id)
    now = utcnow()
    unique = {(p.attribute, p.value): p for p in body.preferences}
    rows = [
        {
            "tenant_id": tenant_id,
            "customer_id": customer.id,
            "attribute": a,
            "value": v,
            "weight": p.weight,
            "source": p.source.value,
            "updated_at": now,
        }
        for (a, v), p in unique.items()
    ]
    repository.replace_preferences(session, tenant_id, [customer.id or 0], rows)
    customer.updated_at = now
    repository.add_customer(session, customer)
    repository.record_changes(session, tenant_id, [external_id])
    return get_customer(session, tenant_id, external_id)


def ingest_events(session: Session, tenant_id: int, raw: list[Any], limit: int) -> EventBatchResult:
    """Store a batch of events; replays of stored event_ids are no-ops."""
    if len(raw) > limit:
        raise PayloadTooLarge(f"A batch holds at most {limit} events; this one has {len(raw)}.")
    checked = check_events(raw)
    accepted, unresolved = event_repository.store_events(
        session, tenant_id, checked.rows, lambda: default_consent(session, tenant_id)
    )
    if unresolved:
        default_consent(session, tenant_id)  # a 404 when the tenant is gone
        raise Conflict("Concurrent batches kept creating this batch's customers; send it again.")
    return EventBatchResult(
        accepted=accepted,
        duplicates=len(checked.rows) - accepted + checked.repeats,
        rejected=len(checked.rejected),
        rejected_events=checked.rejected,
    )


def events_of(session: Session, customer: Customer) -> list[EventPublic]:
    """Every event of a customer, oldest first."""
    return [
        EventPublic.model_validate(e, from_attributes=True) for e in repository.events_of(session, customer)
    ]


def erase_profile(session: Session, tenant_id: int, customer: Customer) -> dict[str, int]:
    """Delete a customer with preferences and events, tombstone it in the feed; the counts deleted."""
    counts = {
        "customer": 1,
        "preferences": repository.count_rows(session, Preference, customer),
        "events": repository.count_rows(session, Event, customer),
    }
    repository.delete_customer(session, customer)
    repository.record_erasures(session, tenant_id, [customer.external_id])
    return counts
