"""Request and response models of engagement preferences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from service.schemas import Name, StrictModel


class EngagementMode(StrEnum):
    """How much the customer does themselves, from most to least."""

    self_service = "self-service"
    assisted = "assisted"
    full_service = "full-service"


class PhasePreference(StrictModel):
    """The mode a customer wants in one journey phase."""

    journey_phase: Name = Field(description="e.g. discovery, purchase, support.")
    mode: EngagementMode


class EngagementPut(StrictModel):
    """Replace all stated engagement preferences of a customer (one entry per phase)."""

    preferences: list[PhasePreference] = Field(max_length=100)


class Signals(BaseModel):
    """The customer's latest self-service signals in a phase (see the observed-mode rule)."""

    self_service_completed: int
    self_service_abandoned: int
    called_support: int


class PhaseEngagement(BaseModel):
    """Stated, observed and effective mode of one journey phase, with the reason."""

    journey_phase: str
    stated: EngagementMode | None
    stated_at: datetime | None
    observed: EngagementMode | None
    signals: Signals | None = Field(description="Counted by the latest scoring run.")
    mode: EngagementMode = Field(description="What the touchpoints of this phase use.")
    reason: str


class EngagementPublic(BaseModel):
    """A customer's engagement preferences per journey phase."""

    customer_id: str
    default_mode: EngagementMode = Field(description="The tenant's mode for phases nothing is known about.")
    phases: list[PhaseEngagement]
