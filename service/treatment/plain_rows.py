"""What a treatment decision reads, as plain values: the stored rows' fields without ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from service.relationships.repository import EventSummary
from service.tailoring.repository import CustomerChoices


class TouchpointFields(Protocol):
    """A touchpoint as decisions read it: a stored row, or a PlainTouchpoint."""

    @property
    def tenant_id(self) -> int:
        """The tenant."""

    @property
    def name(self) -> str:
        """The touchpoint's name."""

    @property
    def journey_phase(self) -> str:
        """Its journey phase."""

    @property
    def attributes(self) -> list[str]:
        """Its tailorable attributes."""

    @property
    def mode(self) -> str:
        """always, never or auto."""

    @property
    def rules(self) -> list[dict[str, Any]]:
        """Its treatment rules, narrowest tier first."""

    @property
    def exit_ramp(self) -> dict[str, Any] | None:
        """Its own exit ramp, if any."""


class TenantTreatment(Protocol):
    """The tenant's treatment settings a decision reads: a stored row, or PlainTreatmentSettings."""

    @property
    def default_engagement_mode(self) -> str:
        """The engagement mode of a customer who stated none."""

    @property
    def exit_ramp(self) -> dict[str, Any]:
        """The tenant's way to reach a person."""


class ValueFields(Protocol):
    """A customer's stored value as decisions read it."""

    @property
    def source(self) -> str:
        """trait, events or none."""

    @property
    def value(self) -> float | None:
        """The value."""

    @property
    def percentile(self) -> float:
        """Its percentile rank."""

    @property
    def computed_at(self) -> datetime:
        """When the scoring run computed it."""


class PlainTouchpoint(NamedTuple):
    """A touchpoint's fields."""

    tenant_id: int
    name: str
    journey_phase: str
    attributes: list[str]
    mode: str
    rules: list[dict[str, Any]]
    exit_ramp: dict[str, Any] | None


class PlainCustomer(NamedTuple):
    """A customer's identity and consents."""

    id: int
    external_id: str
    consent_personalization: bool
    consent_profiling: bool


class PlainValue(NamedTuple):
    """A customer's value, as a scoring run stored it."""

    source: str
    value: float | None
    percentile: float
    computed_at: datetime


class PlainTreatmentSettings(NamedTuple):
    """The tenant's treatment settings that a decision reads."""

    default_engagement_mode: str
    exit_ramp: dict[str, Any]


class PlainStatedMode(NamedTuple):
    """A stated engagement mode in the touchpoint's phase."""

    mode: str
    updated_at: datetime


class PlainSignals(NamedTuple):
    """Observed engagement signals in the touchpoint's phase."""

    completed: int
    abandoned: int
    called: int


class PlainRelationshipSettings(NamedTuple):
    """The tenant's relationship settings."""

    phases: list[dict[str, Any]]
    decline_cooloff_days: int
    exit_ramp_label: str


class PlainStatedType(NamedTuple):
    """A stated relationship type in the touchpoint's phase."""

    type: str
    updated_at: datetime


@dataclass(frozen=True)
class DecisionRead:
    """Everything one decision reads besides the tenant's decisions in force, from one statement."""

    touchpoint: PlainTouchpoint
    settings: PlainTreatmentSettings | None
    customer: PlainCustomer
    value: PlainValue | None
    stated: PlainStatedMode | None
    observed: PlainSignals | None
    relationship_settings: PlainRelationshipSettings | None
    relationship_stated: PlainStatedType | None
    choices: CustomerChoices
    relationship_events: list[EventSummary]
