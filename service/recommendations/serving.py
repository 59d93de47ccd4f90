"""Serving rules: which path answers a customer, with which filters, and why (no SQL, no HTTP)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.evaluation import Strategy
from recommender.ranking import ItemFilter, Recommendation, ServingPath
from service.errors import NotFound, Unprocessable, database_failure, field_error
from service.recommendations.cache import Snapshot
from service.recommendations.reads_repository import CustomerRead

COLD_START = "cold-start"
UNKNOWN_CUSTOMER = "Unknown customer (an anonymous visitor, say): the popular list."
NO_CONSENT = "The customer has not consented to personalization: the popular list, nothing of theirs used."
DATABASE_DOWN = (
    "The database is unavailable, so the customer's consent and latest choices cannot be read: "
    "the popular list of the model in memory, nothing of theirs used."
)
logger = logging.getLogger("tailorwise.serving")


@dataclass(frozen=True)
class RecommendationQuery:
    """What a storefront asked for: how many, and which items may not appear."""

    k: int
    exclude_seen: bool = True
    exclude: frozenset[str] = frozenset()
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)


def recommend(
    snapshot: Snapshot, external_id: str, read: CustomerRead, query: RecommendationQuery
) -> dict[str, Any]:
    """Top-k through the chain the gate allows, with the strategy that answered and why."""
    personal = read.found and read.consent
    exclude_seen = personal and query.exclude_seen
    # A read from a transaction on brought only the newer choices; the model keeps those before it.
    read_since_training = read.events_from_txid > 0
    item_filter = ItemFilter(
        seen=read.seen if exclude_seen else frozenset(),
        excluded=query.exclude | read.deactivated,
        within=_attribute_mask(snapshot, query.filters),
    )
    recommender = snapshot.recommender
    if not personal:
        served = recommender.recommend(query.k, start=ServingPath.POPULAR, item_filter=item_filter)
        return _answer(snapshot, served, Strategy.POPULAR, NO_CONSENT if read.found else UNKNOWN_CUSTOMER)
    served = recommender.recommend(
        query.k,
        customer_id=external_id,
        preferences=read.preferences,
        segment=read.segment,
        start=snapshot.strategy.start,
        item_filter=item_filter,
        hide_training_choices=exclude_seen and read_since_training,
    )
    reason = served.reason[:1].upper() + served.reason[1:]
    if snapshot.strategy != Strategy.ONE_TO_ONE:
        reason += f". At training the gate chose {snapshot.strategy}: {snapshot.gate_reason}"
    return _answer(snapshot, served, _strategy(served, snapshot.model.knows(external_id)), reason)


def without_database(snapshot: Snapshot, query: RecommendationQuery) -> dict[str, Any]:
    """Top-k popular items of the model in memory, for any customer, while the database is down."""
    item_filter = ItemFilter(
        seen=frozenset(), excluded=query.exclude, within=_attribute_mask(snapshot, query.filters)
    )
    served = snapshot.recommender.recommend(query.k, start=ServingPath.POPULAR, item_filter=item_filter)
    return _answer(snapshot, served, Strategy.POPULAR, DATABASE_DOWN)


def log_outage(exc: BaseException) -> None:
    """One line saying a recommendation was served without the database."""
    logger.warning("recommendations served without the database: %s", database_failure(exc))


def _strategy(served: Recommendation, known: bool) -> str:
    """The strategy named in the answer: personal paths split into one-to-one and cold start."""
    if served.path == ServingPath.PERSONAL:
        return Strategy.ONE_TO_ONE if known else COLD_START
    return Strategy.SEGMENT if served.path == ServingPath.SEGMENT else Strategy.POPULAR


def _answer(snapshot: Snapshot, served: Recommendation, strategy: str, reason: str) -> dict[str, Any]:
    return {
        "items": [
            {"item_id": item_id, "score": score}
            for item_id, score in zip(served.item_ids, served.scores, strict=True)
        ],
        "strategy": str(strategy),
        "reason": reason,
        "model_version": snapshot.version_id,
    }


def _attribute_mask(snapshot: Snapshot, filters: Mapping[str, frozenset[str]]) -> np.ndarray | None:
    """Items having, for every filtered attribute, one of the wanted values (None: no filter)."""
    if not filters:
        return None
    mask = np.ones(len(snapshot.model.items), dtype=bool)
    for attribute, wanted in filters.items():
        by_value = snapshot.values.get(attribute)
        if by_value is None:
            raise Unprocessable(
                f"No item has a value of attribute {attribute!r}.",
                errors=[field_error("query.filter", f"unknown attribute {attribute!r}")],
            )
        matching = np.zeros_like(mask)
        for value in wanted:
            matching[by_value.get(value, [])] = True
        mask &= matching
    return mask


def similar(snapshot: Snapshot, item_id: str, k: int, deactivated: frozenset[str]) -> dict[str, Any]:
    """The k active items nearest to an item by the model's item embeddings."""
    if item_id not in snapshot.model.items:
        raise NotFound(f"Item {item_id!r} is not in model version {snapshot.version_id}.")
    hidden = snapshot.inactive | deactivated
    nearest = snapshot.model.similar_items(item_id, k + len(hidden))
    return {
        "item_id": item_id,
        "items": [{"item_id": i, "score": s} for i, s in nearest if i not in hidden][:k],
        "model_version": snapshot.version_id,
    }
