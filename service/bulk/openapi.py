"""The OpenAPI description of a bulk body: the rows as a JSON array, or as NDJSON."""

from __future__ import annotations

from typing import Any

BULK_BODY_DESCRIPTION = (
    "The rows as a JSON array (`application/json`, the form a generated client sends), or as NDJSON "
    "(`application/x-ndjson`: one row a line, each line a JSON object of the row schema, read as it "
    "streams in)."
)


def bulk_body(row_schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a body of rows sent as a JSON array or as NDJSON (each line one row)."""
    return {
        "requestBody": {
            "required": True,
            "description": BULK_BODY_DESCRIPTION,
            "content": {
                "application/json": {"schema": {"type": "array", "items": row_schema}},
                "application/x-ndjson": {"schema": row_schema},
            },
        }
    }
