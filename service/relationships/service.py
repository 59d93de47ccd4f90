"""Rules of relationships: tenant settings (audited), stated types, and the type offered in a phase."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from service.audit import service as audit
from service.auth import Caller
from service.catalog import repository as catalog
from service.catalog.models import Attribute
from service.db import utcnow
from service.errors import Unprocessable, field_error
from service.profiles.models import Customer
from service.profiles.service import require_customer
from service.relationships import repository
from service.relationships.models import RelationshipPreference, RelationshipSettings
from service.relationships.repository import EventSummary
from service.relationships.rules import (
    DECLINES,
    JOURNEY_PHASE,
    PREFIX,
    TOP_DOWN,
    TYPES,
    Context,
    History,
    Stated,
    Verdict,
    attribute_of,
    offer,
)
from service.relationships.schemas import (
    Observed,
    PhaseRelationship,
    RelationshipExitRamp,
    RelationshipOffer,
    RelationshipSettingsPublic,
    RelationshipSettingsPut,
    RelationshipsPublic,
    RelationshipsPut,
    RelationshipType,
)
from service.relationships.verdict import VerdictSource

AUDITED = ("phases", "decline_cooloff_days", "exit_ramp_label")


def _settings_dict(settings: RelationshipSettings) -> dict[str, Any]:
    """The audited fields of the settings."""
    return {name: getattr(settings, name) for name in AUDITED}


def effective_settings(session: Session, tenant_id: int) -> RelationshipSettings:
    """The tenant's stored settings, or the defaults (no phases: top-down everywhere)."""
    return repository.get_settings(session, tenant_id) or RelationshipSettings(tenant_id=tenant_id)


def get_settings(session: Session, tenant_id: int) -> RelationshipSettingsPublic:
    """The tenant's relationship settings in force."""
    stored = repository.get_settings(session, tenant_id)
    settings = stored or RelationshipSettings(tenant_id=tenant_id)
    return RelationshipSettingsPublic.model_validate(
        {**_settings_dict(settings), "updated_at": stored.updated_at if stored else None}
    )


def _unique_phases(field: str, phases: list[str]) -> None:
    """A phase may appear once in a body's list `field`."""
    seen: set[str] = set()
    for index, phase in enumerate(phases):
        if phase in seen:
            raise Unprocessable(
                f"Journey phase {phase!r} appears twice.",
                errors=[field_error(f"body.{field}[{index}].journey_phase", "repeated journey phase")],
            )
        seen.add(phase)


def _scored_attributes(session: Session, tenant_id: int, phases: list[str]) -> list[str]:
    """Define each phase's relationship as a categorical attribute for scoring runs; the names created."""
    created = []
    for phase in phases:
        name = attribute_of(phase)
        if catalog.get_attribute(session, tenant_id, name) is None:
            description = f"The relationship type chosen in the {phase} phase (judged at one slot)."
            catalog.save_attribute(
                session,
                Attribute(
                    tenant_id=tenant_id, name=name, kind="categorical", description=description, slots=1
                ),
            )
            created.append(name)
    return created


def put_settings(
    session: Session, caller: Caller, body: RelationshipSettingsPut
) -> RelationshipSettingsPublic:
    """Replace the settings; each phase's relationship becomes a scored attribute. Audit-logged."""
    _unique_phases("phases", [p.journey_phase for p in body.phases])
    stored = repository.get_settings(session, caller.tenant_id)
    before = None if stored is None else _settings_dict(stored)
    settings = stored or RelationshipSettings(tenant_id=caller.tenant_id)
    for name, value in body.model_dump(mode="json").items():
        setattr(settings, name, value)
    settings.updated_at = utcnow()
    repository.save_settings(session, settings)
    created = _scored_attributes(session, caller.tenant_id, [p.journey_phase for p in body.phases])
    after = {**_settings_dict(settings), "attributes_created": created}
    audit.record(session, caller.tenant_id, caller, "relationships.settings.updated", None, before, after)
    return get_settings(session, caller.tenant_id)


def histories(session: Session, tenant_id: int, customer_id: int) -> dict[str, History]:
    """The customer's relationship events per phase: choices of each type, declines."""
    return histories_from(repository.relationship_events(session, tenant_id, customer_id))


def histories_from(events: Iterable[EventSummary]) -> dict[str, History]:
    """Relationship events (attribute, value, type, summed weight, latest time) per phase."""
    found: dict[str, History] = {}
    for attribute, value, kind, weight, at in events:
        if attribute == JOURNEY_PHASE:
            history = found.setdefault(value, History())
            declined = DECLINES[kind]
            history.declined[declined] = max(at, history.declined.get(declined, at))
        elif attribute.startswith(PREFIX) and value in TYPES:
            history = found.setdefault(attribute[len(PREFIX) :], History())
            chosen = RelationshipType(value)
            history.chosen[chosen] = history.chosen.get(chosen, 0.0) + weight
            history.last_chosen[chosen] = max(at, history.last_chosen.get(chosen, at))
    return found


class PhaseSettings(Protocol):
    """The relationship settings an offer reads: a stored row, or the same fields read as plain values."""

    @property
    def phases(self) -> list[dict[str, Any]]:
        """Each phase's default type."""

    @property
    def decline_cooloff_days(self) -> int:
        """How long a declined type is not offered again."""

    @property
    def exit_ramp_label(self) -> str:
        """The label of the way back to top-down."""


class StatedType(Protocol):
    """A customer's stated relationship type in a phase, and when it was stated."""

    @property
    def type(self) -> str:
        """The stated type."""

    @property
    def updated_at(self) -> datetime:
        """When it was stated."""


# (attribute, the customer's weighted choices of it) -> the scorer's verdict, or None if unscored.
VerdictOf = Callable[[str, Mapping[str, float]], Verdict | None]


def phase_offer(
    settings: PhaseSettings,
    phase: str,
    stated: StatedType | None,
    history: History,
    profiling: bool,
    verdict_of: VerdictOf,
    now: datetime,
) -> tuple[RelationshipOffer, Observed | None]:
    """The offer in one phase and what behaviour shows there (as the customer's consent allows)."""
    defaults = {p["journey_phase"]: RelationshipType(p["default"]) for p in settings.phases}
    chosen = {kind.value: weight for kind, weight in history.chosen.items()} if profiling else {}
    scored = phase in defaults  # only the settings' phases are defined as attributes and scored
    verdict = verdict_of(attribute_of(phase), chosen) if scored else None
    context = Context(
        phase=phase,
        default=defaults.get(phase, TOP_DOWN),
        stated=None if stated is None else Stated(RelationshipType(stated.type), stated.updated_at),
        history=history,
        verdict=verdict,
        cooloff_days=settings.decline_cooloff_days,
        profiling=profiling,
        now=now,
    )
    made = offer(context)
    declined = {kind.value: at for kind, at in history.declined.items()}
    observed = Observed(chosen=chosen, declined=declined) if chosen or declined else None
    return RelationshipOffer(
        journey_phase=phase,
        type=made.type,
        tailored=made.tailored,
        source=made.source,
        scorer="unscored" if verdict is None else verdict.level,
        reason=made.reason,
        exit_ramp=RelationshipExitRamp(label=settings.exit_ramp_label),
    ), observed


def offer_in(
    session: Session,
    customer: Customer,
    phase: str,
    settings: RelationshipSettings,
    stated: RelationshipPreference | None,
    verdicts: VerdictSource,
) -> RelationshipOffer:
    """The type offered to a customer in a phase, from the settings and statement already read (treatment)."""
    history = histories(session, customer.tenant_id, customer.id or 0).get(phase, History())
    profiling = customer.consent_profiling
    verdict_of = _verdicts_of(session, customer.tenant_id, verdicts)
    made, _ = phase_offer(settings, phase, stated, history, profiling, verdict_of, utcnow())
    return made


def _verdicts_of(session: Session, tenant_id: int, verdicts: VerdictSource) -> VerdictOf:
    """The tenant's verdicts, read through a session."""
    return lambda attribute, chosen: verdicts(session, tenant_id, attribute, chosen)


def get_relationships(
    session: Session, tenant_id: int, external_id: str, verdicts: VerdictSource
) -> RelationshipsPublic:
    """Every phase of the tenant's settings, or stated, or shown in events: stated, observed, offered."""
    customer = require_customer(session, tenant_id, external_id)
    settings = effective_settings(session, tenant_id)
    stated = {p.journey_phase: p for p in repository.preferences_of(session, tenant_id, customer.id or 0)}
    found = histories(session, tenant_id, customer.id or 0)
    configured = {p["journey_phase"] for p in settings.phases}
    now = utcnow()
    phases = []
    for phase in sorted(configured | stated.keys() | found.keys()):
        made, observed = phase_offer(
            settings,
            phase,
            stated.get(phase),
            found.get(phase, History()),
            customer.consent_profiling,
            _verdicts_of(session, tenant_id, verdicts),
            now,
        )
        said = stated.get(phase)
        phases.append(
            PhaseRelationship(
                **made.model_dump(),
                stated=None if said is None else RelationshipType(said.type),
                stated_at=None if said is None else said.updated_at,
                observed=observed,
            )
        )
    return RelationshipsPublic(customer_id=external_id, phases=phases)


def put_relationships(
    session: Session, tenant_id: int, external_id: str, body: RelationshipsPut, verdicts: VerdictSource
) -> RelationshipsPublic:
    """Replace the customer's stated types; a phase may appear once."""
    customer = require_customer(session, tenant_id, external_id)
    _unique_phases("preferences", [p.journey_phase for p in body.preferences])
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id,
            "customer_id": customer.id,
            "journey_phase": p.journey_phase,
            "type": p.type.value,
            "updated_at": now,
        }
        for p in body.preferences
    ]
    repository.replace_preferences(session, tenant_id, customer.id or 0, rows)
    return get_relationships(session, tenant_id, external_id, verdicts)
