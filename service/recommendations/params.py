"""Query parameters of the serving endpoints: read by hand (no pydantic on the hot path), documented."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from service.errors import Unprocessable, field_error
from service.recommendations.serving import RecommendationQuery

MAX_K = 100
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_IDS = {"type": "array", "items": {"type": "string", "maxLength": 200}}
K_PARAMETER = _parameter(
    "k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10}, "How many items."
)
RECOMMENDATION_PARAMETERS = [
    K_PARAMETER,
    _parameter(
        "exclude_seen",
        {"type": "boolean"},
        "Leave out items the customer bought or saw (any item event). Default: what the gate chose "
        "at training: false where remembering pays (path repeat or blend), else true.",
    ),
    _parameter("exclude", _IDS, "Item ids to leave out: comma-separated, repeated, or both."),
    _parameter(
        "filter",
        {"type": "array", "items": {"type": "string", "pattern": "^[^:]+:.+$"}},
        "`attribute:value`, repeatable: `filter=genre:Comedy&filter=genre:Drama&filter=decade:1990s` "
        "keeps items that are Comedy or Drama, and of the 1990s. Values of one attribute are "
        "alternatives; different attributes all apply.",
    ),
]


def _invalid(name: str, message: str) -> Unprocessable:
    return Unprocessable("1 field(s) are invalid.", errors=[field_error(f"query.{name}", message)])


def top_k(params: QueryParams) -> int:
    """`k`, an integer from 1 to MAX_K (default 10)."""
    raw = params.get("k")
    if raw is None:
        return 10
    try:
        k = int(raw)
    except ValueError:
        raise _invalid("k", "Input should be a valid integer") from None
    if not 1 <= k <= MAX_K:
        raise _invalid("k", f"Input should be between 1 and {MAX_K}")
    return k


def _flag(params: QueryParams, name: str, default: bool | None) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _invalid(name, "Input should be a valid boolean")


def _ids(values: list[str]) -> frozenset[str]:
    """Ids given comma-separated, repeated, or both."""
    found = frozenset(part.strip() for value in values for part in value.split(",") if part.strip())
    if any(len(value) > 200 for value in found):
        raise _invalid("exclude", "Item ids have at most 200 characters")
    return found


def _filters(values: list[str]) -> dict[str, frozenset[str]]:
    """`attribute:value` filters grouped by attribute."""
    parsed: dict[str, set[str]] = {}
    for value in values:
        attribute, colon, wanted = value.partition(":")
        if not colon or not attribute.strip() or not wanted.strip():
            raise _invalid("filter", f"{value!r} is not attribute:value, e.g. genre:Comedy")
        parsed.setdefault(attribute.strip(), set()).add(wanted.strip())
    return {attribute: frozenset(wanted) for attribute, wanted in parsed.items()}


def recommendation_query(params: QueryParams) -> RecommendationQuery:
    """What a recommendations request asks for; a 422 problem naming the parameter otherwise."""
    return RecommendationQuery(
        k=top_k(params),
        exclude_seen=_flag(params, "exclude_seen", None),
        exclude=_ids(params.getlist("exclude")),
        filters=_filters(params.getlist("filter")),
    )
