"""Building blocks shared by the request and response models of every domain."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.errors import BadRequest, field_error

T = TypeVar("T")

ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class StrictModel(BaseModel):
    """A request body that rejects unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor of the next page (null at the end)."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page.")


def encode_cursor(*parts: int) -> str:
    """An opaque cursor from integers."""
    return base64.urlsafe_b64encode(".".join(map(str, parts)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int, name: str = "cursor") -> tuple[int, ...] | None:
    """The integers inside a cursor; a 400 naming the parameter when it is not one of ours."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = tuple(int(p) for p in raw.split("."))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        parts = ()
    if len(parts) != size:
        raise BadRequest("The cursor is not valid.", errors=[field_error(f"query.{name}", "invalid cursor")])
    return parts
