"""Traits are checked from their JSON text when it leaves no doubt, and walked when it does: same verdicts."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from service.bulk.checks import RowError, json_text
from service.schemas import MAX_JSON_DEPTH, json_problem


def _nested(depth: int) -> dict[str, Any]:
    """An object nested `depth` levels deep."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


VALUES = [
    {},
    {"segment": "gold", "tags": ["a", "b"], "ltv": 12.5, "ok": True},
    {"note": "null and void"},
    {"missing": None},
    {"nul": "a\x00b"},
    {"a\x00": 1},
    {"bad": float("nan")},
    {"bad": [float("inf")]},
    {"surrogate": "\ud800"},
    {"text": "brackets {[{[ in a string"},
    {"escaped": "\\u0000 is text here"},
    _nested(MAX_JSON_DEPTH - 1),
    _nested(MAX_JSON_DEPTH),
    _nested(MAX_JSON_DEPTH + 1),
    {"list": [[[[]]]]},
]


@pytest.mark.parametrize("value", VALUES)
def test_json_text_agrees_with_walking_the_value(value: dict[str, Any]) -> None:
    problem = json_problem(value)
    if problem is not None:
        with pytest.raises(RowError) as caught:
            json_text(value, "traits")
        assert str(caught.value) == f"traits: {problem}"
    else:
        assert json_text(value, "traits") == orjson.dumps(value).decode()
