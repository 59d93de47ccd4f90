"""Request and response models of relationship types per journey phase."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from service.schemas import StorableText, StrictModel

# A phase's name fits in an attribute name after the prefix "relationship:" (100 characters).
Phase = Annotated[str, StringConstraints(min_length=1, max_length=87, pattern=r"^[A-Za-z0-9_.-]+$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), StorableText]


class RelationshipType(StrEnum):
    """Who leads in a phase: the business, both together, the customer on demand, or the customer."""

    top_down = "top-down"
    co_created = "co-created"
    improvisational = "improvisational"
    bottom_up = "bottom-up"


class Source(StrEnum):
    """Where the type offered comes from."""

    stated = "stated"
    behaviour = "behaviour"
    default = "default"


class PhaseDefault(StrictModel):
    """The type every customer is offered in a phase unless they say or show otherwise."""

    journey_phase: Phase
    default: RelationshipType


class RelationshipSettingsPut(StrictModel):
    """The tenant's journey phases with their default types, and how long a decline is respected."""

    phases: list[PhaseDefault] = Field(max_length=50)
    decline_cooloff_days: int = Field(
        default=30,
        ge=0,
        le=3_650,
        description="A declined co-created or bottom-up offer is not repeated "
        "in that phase for this many days.",
    )
    exit_ramp_label: Label = Field(
        default="Let us take it from here",
        description="What the storefront shows on the way back to top-down.",
    )


class RelationshipSettingsPublic(RelationshipSettingsPut):
    """The tenant's relationship settings in force."""

    updated_at: datetime | None


class StatedRelationship(StrictModel):
    """The type a customer wants in one journey phase."""

    journey_phase: Phase
    type: RelationshipType


class RelationshipsPut(StrictModel):
    """Replace all stated relationship preferences of a customer (one entry per phase)."""

    preferences: list[StatedRelationship] = Field(max_length=100)


class RelationshipExitRamp(BaseModel):
    """The way back to the business taking it from here: top-down, full service. Always offered."""

    type: Literal["top-down"] = "top-down"
    engagement_mode: Literal["full-service"] = "full-service"
    label: str


class Observed(BaseModel):
    """What behaviour shows in a phase (events; only with profiling consent, declines always)."""

    chosen: dict[str, float] = Field(description="Weighted choices per type.")
    declined: dict[str, datetime] = Field(description="The latest decline per type.")


class RelationshipOffer(BaseModel):
    """The relationship type offered in a phase, whether it is this customer's own, why, and the way back."""

    journey_phase: str
    type: RelationshipType
    tailored: bool = Field(
        description="True when the type is this customer's (stated or shown), not the phase's."
    )
    source: Source
    scorer: str = Field(
        description="The scorer's level for the phase: mass, niche, targeted, one-to-one, "
        "undetermined, or unscored."
    )
    reason: str
    exit_ramp: RelationshipExitRamp


class PhaseRelationship(RelationshipOffer):
    """Stated, observed and offered relationship of one phase."""

    stated: RelationshipType | None
    stated_at: datetime | None
    observed: Observed | None


class RelationshipsPublic(BaseModel):
    """A customer's relationship preferences per journey phase, with the type in force."""

    customer_id: str
    phases: list[PhaseRelationship]
