"""Request and response models of priority treatment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator

from service.engagement.schemas import EngagementMode
from service.relationships.schemas import RelationshipOffer
from service.schemas import Name, StorableText, StrictModel
from service.tailoring.schemas import PlanEntry

Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), StorableText]


class TreatmentMode(StrEnum):
    """Whether a touchpoint's priority rules apply."""

    auto = "auto"
    always = "always"
    never = "never"


class ExitRamp(StrictModel):
    """How a customer reaches a person."""

    channel: Name = Field(description="e.g. phone, chat, email, store.")
    label: Label = Field(description="What the storefront shows.")
    contact: Label | None = Field(default=None, description="A number, address or link, if any.")


class TreatmentRule(StrictModel):
    """The treatment of the customers in the tenant's top `top_percent` by value."""

    top_percent: float = Field(gt=0, le=100, description="Cumulative: top 20 includes the top 5.")
    priority: int = Field(ge=1, le=1_000, description="Queue priority; 1 is served first.")
    routing: Name = Field(default="standard", description="Where to route, e.g. senior.")
    recognition: bool = Field(default=False, description="Recognise the customer as a special group.")


class TouchpointPut(StrictModel):
    """A touchpoint's journey phase, tailorable attributes and treatment rules."""

    journey_phase: Name = Field(description="e.g. discovery, purchase, support.")
    attributes: list[Name] = Field(default_factory=list, max_length=100)
    mode: TreatmentMode = Field(
        default=TreatmentMode.auto,
        description="always: apply the rules; never: no priority treatment; auto: apply them until "
        "measured evidence says they do not lift outcomes.",
    )
    rules: list[TreatmentRule] = Field(
        default_factory=list, max_length=20, description="Narrowest tier first; the first match wins."
    )
    exit_ramp: ExitRamp | None = Field(default=None, description="Null: the tenant's exit ramp.")

    @field_validator("attributes")
    @classmethod
    def _unique(cls, attributes: list[str]) -> list[str]:
        """Each attribute once."""
        if len(set(attributes)) != len(attributes):
            raise ValueError("each attribute may appear once")
        return attributes


class TouchpointPublic(TouchpointPut):
    """A stored touchpoint with the evidence that auto mode consults."""

    name: str
    treatment_pays: bool | None = Field(
        description="Whether measured evidence says priority treatment lifts outcomes here; "
        "null until a holdout experiment has measured it."
    )
    updated_at: datetime


class TreatmentSettingsPut(StrictModel):
    """How customer value is scored, the default engagement mode and the exit ramp of a tenant."""

    value_trait: Name | None = Field(
        default="lifetime_value",
        description="The CRM trait that holds a customer's value; null: always score purchase events.",
    )
    purchase_types: list[Name] = Field(
        default_factory=lambda: ["purchase"],
        min_length=1,
        max_length=20,
        description="Events that are spend.",
    )
    recency_half_life_days: float = Field(
        default=90.0, ge=1, le=3_650, description="A purchase counts half as much after this many days."
    )
    default_engagement_mode: EngagementMode = EngagementMode.self_service
    exit_ramp: ExitRamp = Field(default_factory=lambda: ExitRamp(channel="phone", label="Talk to a person"))


class TreatmentSettingsPublic(TreatmentSettingsPut):
    """The tenant's treatment settings in force."""

    updated_at: datetime | None


class ValueTier(BaseModel):
    """Where the customer stands by value, as computed by the latest scoring run."""

    source: str = Field(description="trait, events, or none (the trait is missing for this customer).")
    value: float | None
    percentile: float = Field(description="Share of profiled customers with a lower value, in percent.")
    top_percent: float = Field(description="100 - percentile: the customer is in this top share.")
    computed_at: datetime


class TreatmentReasons(BaseModel):
    """Why each part of the decision is what it is."""

    priority: str = Field(description="Covers priority, routing and recognition.")
    engagement_mode: str
    exit_ramp: str
    attributes: str


class TreatmentDecision(BaseModel):
    """How to treat one customer at one touchpoint."""

    customer_id: str
    touchpoint: str
    journey_phase: str
    priority: int | None = Field(description="1 is served first; null is the standard queue.")
    routing: str
    recognition: bool
    value: ValueTier | None = Field(description="Null without profiling consent or before a scoring run.")
    engagement_mode: EngagementMode
    exit_ramp: ExitRamp = Field(description="Always present: a way to reach a person.")
    attributes: list[PlanEntry] = Field(description="The touchpoint's attributes: tailored, or the default.")
    relationship: RelationshipOffer = Field(
        description="The relationship type offered in the touchpoint's phase, with its reason and the exit "
        "ramp back to top-down (always present)."
    )
    reasons: TreatmentReasons
    experiment: dict[str, Any] | None = Field(
        default=None, description="`{id, arm}` when a running holdout experiment decides the priority."
    )
