"""Request and response models of CRM sync and the change feed."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from service.profiles.schemas import Consent, CustomerPublic, PreferenceIn
from service.schemas import ExternalId, JsonObject, StrictModel, Timestamp


class CustomerSyncRow(StrictModel):
    """One row of a customer sync batch (checked by service.sync.rows, documented here)."""

    external_id: ExternalId
    traits: JsonObject = Field(description="Anything the CRM knows; replaces the stored traits.")
    consent: Consent
    preferences: list[PreferenceIn] | None = Field(
        default=None, max_length=1_000, description="Omitted or null: kept; a list replaces them all."
    )
    source_updated_at: Timestamp = Field(description="The CRM's own timestamp of this version.")


class Change(BaseModel):
    """A customer as it is now; a tombstone (deleted, no profile) after an erasure."""

    external_id: str
    deleted: bool
    changed_at: AwareDatetime
    profile: CustomerPublic | None


class ChangePage(BaseModel):
    """Changes after a cursor, and the cursor to pass next time."""

    items: list[Change]
    next_cursor: str = Field(description="Pass as `after`; unchanged when nothing new was committed.")
