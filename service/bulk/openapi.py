"""The OpenAPI description of a bulk body: NDJSON rows, or the same rows as a JSON array."""

from __future__ import annotations

from typing import Any


def bulk_body(row_schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a body of rows sent as NDJSON or as a JSON array."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": row_schema},
                "application/json": {"schema": {"type": "array", "items": row_schema}},
            },
        }
    }
