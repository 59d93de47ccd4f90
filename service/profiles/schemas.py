"""Request and response models of the profile store."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from service.schemas import ExternalId, JsonObject, Name, StrictModel, Timestamp

EventType = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Consent(StrictModel):
    """What the customer agreed to."""

    personalization: bool = Field(description="Tailored recommendations and plans.")
    profiling: bool = Field(description="Value scoring and priority treatment.")


class CustomerPut(StrictModel):
    """Create or replace a customer's traits and consent."""

    traits: JsonObject = Field(default_factory=dict, description="Anything the CRM knows.")
    consent: Consent | None = Field(default=None, description="Omitted: kept, or the tenant default.")
    source_updated_at: Timestamp | None = Field(
        default=None,
        description="The caller's timestamp (1900-01-01 to 9999-12-31 in UTC); an older write never wins.",
    )


class PreferenceSource(StrEnum):
    """Where a preference came from."""

    stated = "stated"
    crm = "crm"
    inferred = "inferred"


class PreferenceIn(StrictModel):
    """One attribute value the customer prefers."""

    attribute: Name
    value: ExternalId
    weight: float = Field(default=1.0, ge=0, le=1_000, allow_inf_nan=False)
    source: PreferenceSource = PreferenceSource.stated


class PreferencesPut(StrictModel):
    """Replace all stated preferences of a customer."""

    preferences: list[PreferenceIn] = Field(max_length=1_000)


class PreferencePublic(BaseModel):
    """A stored preference."""

    attribute: str
    value: str
    weight: float
    source: str
    updated_at: datetime


class CustomerPublic(BaseModel):
    """A customer as callers see it."""

    external_id: str
    traits: dict[str, Any]
    consent: Consent
    preferences: list[PreferencePublic]
    source_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EventIn(StrictModel):
    """An event: a choice (an item, or an attribute and value chosen directly), or a plain outcome."""

    event_id: ExternalId
    customer_id: ExternalId
    type: EventType
    item_id: ExternalId | None = None
    attribute: Name | None = None
    value: ExternalId | None = None
    weight: float = Field(default=1.0, ge=0, le=1_000_000, allow_inf_nan=False)
    occurred_at: Timestamp = Field(description="From 1900-01-01 to 9999-12-31 in UTC.")

    @model_validator(mode="after")
    def _names_a_choice(self) -> Self:
        """An attribute goes with a value; an event naming neither nor an item is an outcome (a visit)."""
        if (self.attribute is None) != (self.value is None):
            raise ValueError("attribute and value go together")
        return self


class EventBatch(StrictModel):
    """A batch of events; each is checked on its own so one bad event sinks nothing."""

    events: list[dict[str, Any]]


class RejectedEvent(BaseModel):
    """Why one event of a batch was not stored."""

    index: int
    event_id: str | None
    reason: str


class EventBatchResult(BaseModel):
    """What happened to a batch."""

    accepted: int
    duplicates: int
    rejected: int
    rejected_events: list[RejectedEvent]


class EventPublic(BaseModel):
    """A stored event, as exported."""

    event_id: str
    type: str
    item_id: str | None
    attribute: str | None
    value: str | None
    weight: float
    occurred_at: datetime
