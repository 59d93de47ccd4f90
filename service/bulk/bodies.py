"""Bulk bodies: NDJSON read line by line as it streams in, or one JSON array; rows numbered from 1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from anyio import from_thread
from fastapi import Request

from service.errors import BadRequest, UnsupportedMediaType, field_error

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson")
Record = tuple[int, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    """A row that is not JSON at all."""

    reason: str


def parse_line(data: bytes) -> Any:
    """One NDJSON line as a JSON value, or Malformed."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return Malformed(f"row: not valid JSON ({exc})")


def ndjson_records(chunks: Iterable[bytes]) -> Iterator[Record]:
    """Split chunks into numbered lines as they arrive; blank lines are skipped but counted."""
    line = 0
    partial: list[bytes] = []
    for chunk in chunks:
        pieces = chunk.split(b"\n")
        if len(pieces) == 1:
            partial.append(chunk)
            continue
        partial.append(pieces[0])
        pieces[0] = b"".join(partial)
        partial = [pieces.pop()]
        for piece in pieces:
            line += 1
            if piece.strip():
                yield line, parse_line(piece)
    last = b"".join(partial)
    if last.strip():
        yield line + 1, parse_line(last)


def json_array_records(chunks: Iterable[bytes]) -> Iterator[Record]:
    """The elements of a JSON array body, numbered by position; the body is bounded by the byte limit."""
    try:
        body = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise BadRequest("The body is not valid JSON.", errors=[field_error("body", str(exc))]) from None
    if not isinstance(body, list):
        raise BadRequest("Send a JSON array of rows.", errors=[field_error("body", "expected a JSON array")])
    yield from enumerate(body, start=1)


async def _next_chunk(stream: AsyncIterator[bytes]) -> bytes | None:
    """The next chunk of a body, or None at its end."""
    return await anext(stream, None)


def blocking_chunks(request: Request) -> Iterator[bytes]:
    """The request body chunk by chunk, for code running in a worker thread."""
    stream = request.stream()
    while (chunk := from_thread.run(_next_chunk, stream)) is not None:
        yield chunk


def request_records(request: Request) -> Iterator[Record]:
    """The rows of a bulk request by its content type; iterate it in a worker thread."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in NDJSON_TYPES:
        return ndjson_records(blocking_chunks(request))
    if content_type == "application/json":
        return json_array_records(blocking_chunks(request))
    raise UnsupportedMediaType("Send rows as application/x-ndjson (one JSON object a line) or a JSON array.")
