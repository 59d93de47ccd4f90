"""Request and response models of the catalog."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from service.schemas import ExternalId, JsonObject, StorableText, StrictModel, Timestamp


class AttributeKind(StrEnum):
    """How an attribute's values are read."""

    categorical = "categorical"
    multi_valued = "multi-valued"
    numeric = "numeric"


class AttributePut(StrictModel):
    """Define an attribute and the business inputs its tailoring value is computed from."""

    kind: AttributeKind
    description: Annotated[str, StorableText] = Field(default="", max_length=1_000)
    bins: list[float] | None = Field(
        default=None,
        validate_default=True,
        description='Numeric only, required there: sorted edges; values are stored as labels like "[10,20)".',
    )
    f: float = Field(
        default=1.0, ge=0, allow_inf_nan=False, description="Opportunities per customer per period."
    )
    u: float = Field(default=1.0, ge=0, allow_inf_nan=False, description="Value of one more relevant hit.")
    c: float = Field(default=0.0, ge=0, allow_inf_nan=False, description="Cost of tailoring per opportunity.")
    slots: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="How many of its values a touchpoint shows at once (1: a default format, a brand;"
        " 3: a genre shelf); hit@k is judged at k = slots. Null: the tenant's k if set, else 1 for an"
        " attribute of at most 5 values and 3 (at most half its values) for a larger one.",
    )

    @field_validator("bins")
    @classmethod
    def _edges(cls, bins: list[float] | None, info: ValidationInfo) -> list[float] | None:
        """Numeric attributes need 1 to 100 finite, strictly increasing edges; others none."""
        numeric = info.data.get("kind") == AttributeKind.numeric
        if not numeric:
            if bins is not None:
                raise ValueError("only numeric attributes have bins")
            return None
        if not bins:
            raise ValueError("a numeric attribute needs bins: sorted edges such as [10, 20, 50]")
        if len(bins) > 100 or not all(math.isfinite(b) for b in bins):
            raise ValueError("at most 100 finite edges")
        if any(a >= b for a, b in pairwise(bins)):
            raise ValueError("edges must be strictly increasing")
        return bins


class AttributePublic(BaseModel):
    """An attribute definition with its tailoring settings."""

    name: str
    kind: str
    description: str
    bins: list[float] | None
    f: float
    u: float
    c: float
    tau: float | None = Field(description="Threshold override; null: the tenant's default.")
    mode: str = Field(description="auto, always or never (set through the tailoring endpoint).")
    slots: int | None = Field(description="Values shown at once; null: by the tenant's k or the rule.")
    updated_at: datetime


class ItemSyncRow(StrictModel):
    """One row of an item sync batch (checked by service.catalog.rows, documented here)."""

    item_id: ExternalId
    attributes: JsonObject = Field(
        description="Name to a value, or a list of values for multi-valued attributes; numbers for numeric."
    )
    active: bool = Field(default=True, description="Inactive items are never recommended.")
    source_updated_at: Timestamp | None = Field(
        default=None, description="The source's timestamp; an older row never overwrites a newer one."
    )


class ItemPublic(BaseModel):
    """An item with its attributes as sent and its values as stored for scoring."""

    item_id: str
    attributes: dict[str, Any]
    active: bool
    values: dict[str, list[str]] = Field(description="Labels per attribute; numeric values binned.")
    source_updated_at: datetime | None
    updated_at: datetime
