"""Request and response models of the tailoring domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from service.schemas import Name, StrictModel


class Bounds(BaseModel):
    """An estimate with its 95% interval."""

    estimate: float
    low: float
    high: float


class RunCreate(StrictModel):
    """Start a scoring run, for every defined attribute or one."""

    attribute: Name | None = Field(default=None, description="Score only this attribute.")


class ThresholdsPublic(BaseModel):
    """The bar applied to an attribute."""

    tau: float
    f: float
    u: float
    c: float
    min_customers: int
    min_events_per_customer: float
    mode: str


class SegmentPublic(BaseModel):
    """One latent segment of customers and its favourite value."""

    share: float
    top_value: str
    top_values: dict[str, float]


class DecisionPublic(BaseModel):
    """Whether tailoring an attribute pays, with the figures and the reason."""

    attribute: str
    decision: str = Field(description="`tailor` or `default`.")
    level: str = Field(description="mass, niche, targeted, one-to-one or undetermined.")
    explanation: str
    override: str | None = Field(description="`always` or `never` when a marketer override decided.")
    phi: Bounds | None = Field(description="Polarization: 0 = everyone alike, 1 = each their own.")
    lift: Bounds | None = Field(description="Held-out lift of the individual model, bits per event.")
    delta_hit: Bounds | None = Field(description="hit@k(individual) - hit@k(population top-k).")
    value: Bounds | None = Field(description="V_A = f * delta_hit * u - c.")
    segment_lift: Bounds | None
    segment_delta_hit: Bounds | None
    individual_over_segment_lift: Bounds | None
    n_segments: int | None
    segments: list[SegmentPublic]
    k: int = Field(
        description="The k hit@k was judged at: the slots, lowered where they cannot discriminate."
    )
    slots: int | None = Field(description="How many values a touchpoint shows at once (null: not recorded).")
    k_reason: str | None = Field(description="Why k differs from the slots, when it does.")
    customers: int
    events: float
    evaluated_customers: int
    thresholds: ThresholdsPublic
    population_top: dict[str, float] = Field(description="The most chosen values and their shares.")
    computed_at: datetime
    run_id: int


class SettingsPut(StrictModel):
    """A tenant's defaults for tailoring decisions."""

    tau: float = Field(default=0.01, ge=0, le=1_000, description="Minimum V_A lower bound to tailor.")
    k: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Slots of an attribute that states none (hit@k); null: 1 for at most 5 values, else 3."
        " Applies from the next scoring run.",
    )
    min_customers: int = Field(default=30, ge=2, le=10_000_000)
    min_events_per_customer: float = Field(default=3.0, ge=1, le=10_000)


class SettingsPublic(SettingsPut):
    """The tenant's settings in force."""

    updated_at: datetime | None


class TailoringMode(StrEnum):
    """Whether the scorer or the marketer decides."""

    auto = "auto"
    always = "always"
    never = "never"


class AttributeTailoringPut(StrictModel):
    """The marketer's business inputs and override for one attribute."""

    f: float = Field(default=1.0, ge=0, le=1_000_000, description="Opportunities per customer per period.")
    u: float = Field(default=1.0, ge=0, le=1_000_000, description="Value of one more relevant hit.")
    c: float = Field(
        default=0.0, ge=0, le=1_000_000, description="Cost of tailoring per customer and period."
    )
    tau: float | None = Field(default=None, ge=0, le=1_000, description="Override of the tenant's tau.")
    mode: TailoringMode = TailoringMode.auto


class PlanEntry(BaseModel):
    """What to do with one attribute for one customer."""

    attribute: str
    tailored: bool
    values: list[dict[str, Any]] = Field(description="`{value, probability}`, most likely first.")
    reason: str
    experiment: dict[str, Any] | None = Field(
        default=None, description="`{id, arm}` when a running holdout experiment decides this attribute."
    )
    usual: dict[str, Any] | None = Field(
        default=None,
        description="Where tailoring pays: the value the customer chose most (the latest on a tie), "
        "`{value, times, last_days_ago}`, once chosen at least twice.",
    )


class TailoringPlan(BaseModel):
    """For every scored attribute: the customer's own values, or the default."""

    customer_id: str
    personalized: bool
    reason: str
    attributes: list[PlanEntry]
