"""Request and response models of experiments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from service.schemas import ExternalId, Name, StrictModel

MAX_EXPOSURES = 10_000
ScopeKind = Literal["attribute", "recommendations", "touchpoint", "global"]
Measure = Literal["conversion", "count", "sum"]
ArmName = Literal["treatment", "holdout"]


class Scope(StrictModel):
    """What the experiment holds out: an attribute's tailoring, recommendations, a touchpoint, or all."""

    kind: ScopeKind
    attribute: Name | None = None
    touchpoint: Name | None = None

    @model_validator(mode="after")
    def _names_its_target(self) -> Self:
        """An attribute scope names an attribute, a touchpoint scope a touchpoint, the others neither."""
        wanted = {"attribute": "attribute", "touchpoint": "touchpoint"}.get(self.kind)
        for field in ("attribute", "touchpoint"):
            given = getattr(self, field) is not None
            if given != (field == wanted):
                raise ValueError(
                    f"scope {self.kind!r} {'needs' if field == wanted else 'takes no'} {field!r}"
                )
        return self

    @property
    def target(self) -> str | None:
        """The attribute or touchpoint named, if any."""
        return self.attribute or self.touchpoint


class Metric(StrictModel):
    """An outcome: events of a type after first exposure, within a window, as 0/1, a count or a sum."""

    event_type: Name
    measure: Measure = "conversion"
    window_days: int = Field(default=14, ge=1, le=365)


class Guardrail(Metric):
    """A metric the treatment must not move in one direction."""

    must_not: Literal["increase", "decrease"]


class ExperimentCreate(StrictModel):
    """A new experiment; it starts running at once."""

    name: Name
    scope: Scope
    holdout_share: float = Field(gt=0, lt=1, description="The share of customers held out, e.g. 0.1.")
    assignment: Literal["hash", "external"] = "hash"
    goal: Metric
    guardrails: list[Guardrail] = Field(default_factory=list, max_length=10)
    auto_stop: bool = Field(
        default=False, description="Switch the scope to its default when the verdict is `harms` (mode auto)."
    )


class ExperimentPublic(BaseModel):
    """An experiment as stored, with its latest verdict."""

    id: int
    name: str
    scope: dict[str, Any]
    holdout_share: float
    assignment: str
    goal: dict[str, Any]
    guardrails: list[dict[str, Any]]
    auto_stop: bool
    status: str
    started_at: datetime
    stopped_at: datetime | None
    verdict: str | None
    verdict_reason: str | None
    verdict_note: str | None
    verdict_at: datetime | None
    switched_off_at: datetime | None


class AssignmentPublic(BaseModel):
    """A customer's arm in a hash experiment."""

    experiment_id: int
    customer_id: str
    arm: ArmName
    bucket: int = Field(description="0..9,999; the holdout is the buckets below round(share * 10,000).")


class ExposureIn(StrictModel):
    """One customer's exposure to an arm, decided outside (or checked against the hash)."""

    customer_id: ExternalId
    arm: ArmName
    exposed_at: AwareDatetime


class ExposureBatch(StrictModel):
    """Up to 10,000 exposures; the first exposure of a customer is kept."""

    exposures: list[ExposureIn] = Field(max_length=MAX_EXPOSURES)


class ExposureBatchResult(BaseModel):
    """What happened to a batch of exposures."""

    recorded: int
    duplicates: int
    unknown_customers: int
    without_consent: int
