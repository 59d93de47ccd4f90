"""GDPR answers: everything stored about a customer, and what an erasure removed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from service.profiles.schemas import CustomerPublic, EventPublic


class CustomerExport(BaseModel):
    """Everything stored about one customer (GDPR access)."""

    customer: CustomerPublic
    events: list[EventPublic]
    extra: dict[str, Any] = Field(default_factory=dict, description="Data held by other domains.")


class ErasureResult(BaseModel):
    """What an erasure removed."""

    external_id: str
    deleted: dict[str, int]
