"""Rules of engagement preferences: replace what a customer states, read it with what behaviour shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from service.db import utcnow
from service.engagement import repository
from service.engagement.rules import Counts, mode_in_force, observed_mode
from service.engagement.schemas import (
    EngagementMode,
    EngagementPublic,
    EngagementPut,
    PhaseEngagement,
    Signals,
)
from service.errors import Unprocessable, field_error
from service.jobs.models import Run
from service.profiles.service import require_customer

MAX_PHASE_LENGTH = 100


class StatedMode(Protocol):
    """A customer's stated mode in a phase: a stored row, or the same fields read as plain values."""

    @property
    def mode(self) -> str:
        """The stated mode."""

    @property
    def updated_at(self) -> datetime:
        """When it was stated."""


class ObservedSignals(Protocol):
    """A customer's counted engagement signals in a phase, as stored by the scoring run."""

    @property
    def completed(self) -> int:
        """Self-service completed."""

    @property
    def abandoned(self) -> int:
        """Self-service abandoned."""

    @property
    def called(self) -> int:
        """Called support."""


def phase_engagement(
    phase: str,
    stated: StatedMode | None,
    observation: ObservedSignals | None,
    default: EngagementMode,
    profiling: bool,
) -> PhaseEngagement:
    """One phase's stated, observed and effective mode (behaviour only with profiling consent)."""
    used = observation if profiling else None
    counts = None if used is None else Counts(used.completed, used.abandoned, used.called)
    observed = observed_mode(counts)
    stated_mode = None if stated is None else EngagementMode(stated.mode)
    mode, reason = mode_in_force(phase, stated_mode, observed, default, profiling)
    return PhaseEngagement(
        journey_phase=phase,
        stated=stated_mode,
        stated_at=None if stated is None else stated.updated_at,
        observed=observed,
        signals=None
        if counts is None
        else Signals(
            self_service_completed=counts.completed,
            self_service_abandoned=counts.abandoned,
            called_support=counts.called,
        ),
        mode=mode,
        reason=reason,
    )


def get_engagement(
    session: Session, tenant_id: int, external_id: str, default: EngagementMode
) -> EngagementPublic:
    """Every phase the customer stated a mode for or showed behaviour in, beside the tenant's default."""
    customer = require_customer(session, tenant_id, external_id)
    stated = {p.journey_phase: p for p in repository.preferences_of(session, tenant_id, customer.id or 0)}
    observed = {o.journey_phase: o for o in repository.observations_of(session, tenant_id, customer.id or 0)}
    if not customer.consent_profiling:
        observed = {}
    phases = [
        phase_engagement(phase, stated.get(phase), observed.get(phase), default, customer.consent_profiling)
        for phase in sorted(stated.keys() | observed.keys())
    ]
    return EngagementPublic(customer_id=external_id, default_mode=default, phases=phases)


def put_engagement(
    session: Session, tenant_id: int, external_id: str, body: EngagementPut, default: EngagementMode
) -> EngagementPublic:
    """Replace the customer's stated modes; a phase may appear once."""
    customer = require_customer(session, tenant_id, external_id)
    seen: set[str] = set()
    for index, preference in enumerate(body.preferences):
        if preference.journey_phase in seen:
            raise Unprocessable(
                f"Journey phase {preference.journey_phase!r} appears twice.",
                errors=[field_error(f"body.preferences[{index}].journey_phase", "repeated journey phase")],
            )
        seen.add(preference.journey_phase)
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id,
            "customer_id": customer.id,
            "journey_phase": p.journey_phase,
            "mode": p.mode.value,
            "updated_at": now,
        }
        for p in body.preferences
    ]
    repository.replace_preferences(session, tenant_id, customer.id or 0, rows)
    return get_engagement(session, tenant_id, external_id, default)


def observation_rows(session: Session, run: Run) -> list[dict[str, Any]]:
    """Rows of every profiled customer's latest signals per phase, for a scoring run to write."""
    now = utcnow()
    return [
        {
            "tenant_id": run.tenant_id,
            "customer_id": customer_id,
            "journey_phase": phase,
            "run_id": run.id,
            "completed": completed,
            "abandoned": abandoned,
            "called": called,
            "computed_at": now,
        }
        for customer_id, phase, completed, abandoned, called in repository.signal_counts(
            session, run.tenant_id
        )
        if len(phase) <= MAX_PHASE_LENGTH
    ]
