"""Request and response models of the key endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.tenancy.models import Role


class KeyPublic(BaseModel):
    """A key as listed: never the key itself, only its first characters."""

    id: int
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None = Field(description="Written at most once a minute per server process.")
    expires_at: datetime | None
    revoked_at: datetime | None
    status: Literal["active", "expired", "revoked"]


class KeyIssued(BaseModel):
    """A new key, shown only in this response."""

    id: int
    key: str
    role: Role
    expires_at: datetime | None


class KeyCreate(BaseModel):
    """A key to create: its role and, optionally, when it stops working."""

    role: Role
    expires_at: datetime | None = None


class KeyRotate(BaseModel):
    """How long the old key keeps working; unset: the configured grace (24 hours by default)."""

    grace_seconds: float | None = Field(default=None, ge=0, le=30 * 24 * 3600)


class KeyRotated(BaseModel):
    """The new key and the old one, which now expires at the end of the grace period."""

    key: KeyIssued
    previous: KeyPublic
