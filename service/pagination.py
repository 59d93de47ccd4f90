"""Keyset pagination: opaque cursors over row ids, and a page cut from rows read one past nothing."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Path

from service.errors import BadRequest, field_error
from service.schemas import Page

T = TypeVar("T")

MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A row id: 1 to 2^63-1.")]


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
    if len(parts) != size or not all(0 <= p <= MAX_ID for p in parts):
        raise BadRequest("The cursor is not valid.", errors=[field_error(f"query.{name}", "invalid cursor")])
    return parts


def cursor_id(cursor: str | None) -> int | None:
    """The row id a one-part cursor continues from, or None for the first page."""
    position = decode_cursor(cursor, 1)
    return position[0] if position else None


def id_page(rows: Sequence[Any], limit: int, items: Callable[[Sequence[Any]], list[T]]) -> Page[T]:
    """A page of rows read with `limit`: their public items and, when the page is full, the next cursor."""
    last = rows[-1].id if len(rows) == limit and rows else None
    return Page(items=items(rows), next_cursor=encode_cursor(last) if last is not None else None)
