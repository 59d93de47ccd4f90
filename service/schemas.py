"""Building blocks of the request and response models of every domain, bounded by what storage holds."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

# Timestamps are accepted from 1900-01-01 to 9999-12-31 in UTC: both databases and Python read them back.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MAX_JSON_DEPTH = 32


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored (a NUL, a lone surrogate), or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain lone surrogates"
    return None


def timestamp_problem(value: datetime) -> str | None:
    """Why an aware timestamp cannot be stored (outside 1900..9999 in UTC), or None."""
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        return "must be from 1900-01-01 to 9999-12-31 in UTC"
    return None


def json_problem(value: Any, depth: int = 1) -> str | None:
    """Why a JSON value cannot be stored (bad text, non-finite number, nested too deep), naming where."""
    if depth > MAX_JSON_DEPTH:
        return f"must not be nested more than {MAX_JSON_DEPTH} levels deep"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float):
        return None if math.isfinite(value) else "must hold finite numbers only"
    if isinstance(value, dict):
        for key, inner in value.items():
            if problem := text_problem(str(key)):
                return f"a key {problem}"
            if problem := json_problem(inner, depth + 1):
                return f"{key}: {problem}"
    if isinstance(value, list):
        for index, inner in enumerate(value):
            if problem := json_problem(inner, depth + 1):
                return f"[{index}]: {problem}"
    return None


def _raise_if(problem: str | None) -> None:
    """A validation error with the problem's message."""
    if problem is not None:
        raise ValueError(problem)


def _clean_text(value: str) -> str:
    """A string storage can hold."""
    _raise_if(text_problem(value))
    return value


def _in_range(value: datetime) -> datetime:
    """A timestamp storage can hold."""
    _raise_if(timestamp_problem(value))
    return value


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON object storage can hold."""
    _raise_if(json_problem(value))
    return value


StorableText = AfterValidator(_clean_text)
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), StorableText
]
NAME_PATTERN = r"^[A-Za-z0-9_.:-]+$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Timestamp = Annotated[AwareDatetime, AfterValidator(_in_range)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_json)]


class StrictModel(BaseModel):
    """A request body that rejects unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor of the next page (null at the end)."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page.")
