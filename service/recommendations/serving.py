"""Serving rules: which path answers a customer, with which filters, and why (no SQL, no HTTP)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.evaluation import Strategy
from recommender.ranking import ItemFilter, Recommendation, ServingPath
from recommender.repeat import Remembered
from recommender.repeat_gate import REMEMBERING, Path
from service import metrics
from service.errors import NotFound, Unprocessable, database_failure, field_error
from service.recommendations.cache import Snapshot
from service.recommendations.reads_repository import CustomerRead

COLD_START = "cold-start"
UNKNOWN_CUSTOMER = "Unknown customer (an anonymous visitor, say): the popular list."
NO_CONSENT = "The customer has not consented to personalization: the popular list, nothing of theirs used."
DISCOVERY_SLOTS = 2
# Why each item is there, by the list it came from.
ITEM_REASONS = {
    ServingPath.PERSONAL: "customers with your taste bought it",
    ServingPath.SEGMENT: "popular in your segment",
    ServingPath.POPULAR: "popular",
}
PATH_NAMES = {
    ServingPath.PERSONAL: Path.ONE_TO_ONE.value,
    ServingPath.SEGMENT: Path.SEGMENT.value,
    ServingPath.POPULAR: Path.POPULAR.value,
}
DATABASE_DOWN = (
    "The database is unavailable, so the customer's consent and latest choices cannot be read: "
    "the popular list of the model in memory, nothing of theirs used."
)
logger = logging.getLogger("tailorwise.serving")


@dataclass(frozen=True)
class RecommendationQuery:
    """What a storefront asked for: how many, and which items may not appear (None: the gate's default)."""

    k: int
    exclude_seen: bool | None = None
    exclude: frozenset[str] = frozenset()
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)


def recommend(
    snapshot: Snapshot,
    external_id: str,
    read: CustomerRead,
    query: RecommendationQuery,
    popular_because: str | None = None,
) -> dict[str, Any]:
    """Top-k through the path the gate chose (the popular list when told why), the strategy, path and why."""
    personal = read.found and read.consent and popular_because is None
    wanted = snapshot.exclude_seen if query.exclude_seen is None else query.exclude_seen
    exclude_seen = personal and wanted
    # A read from a transaction on brought only the newer choices; the model keeps those before it.
    read_since_training = read.events_from_txid > 0
    within = _attribute_mask(snapshot, query.filters)
    excluded = query.exclude | read.deactivated
    recommender = snapshot.recommender
    if not personal:
        item_filter = ItemFilter(excluded=excluded, within=within)
        served = recommender.recommend(query.k, start=ServingPath.POPULAR, item_filter=item_filter)
        why = popular_because or (NO_CONSENT if read.found else UNKNOWN_CUSTOMER)
        return _answer(snapshot, served, Strategy.POPULAR, why)
    if not wanted and snapshot.memory is not None and snapshot.path in REMEMBERING:
        return _remembering(snapshot, external_id, read, query, within)
    served = recommender.recommend(
        query.k,
        customer_id=external_id,
        preferences=read.preferences,
        segment=read.segment,
        start=snapshot.strategy.start,
        item_filter=ItemFilter(
            seen=read.seen if exclude_seen else frozenset(), excluded=excluded, within=within
        ),
        hide_training_choices=exclude_seen and read_since_training,
    )
    reason = served.reason[:1].upper() + served.reason[1:]
    if snapshot.strategy != Strategy.ONE_TO_ONE:
        reason += f". At training the gate chose {snapshot.strategy}: {snapshot.gate_reason}"
    return _answer(snapshot, served, _strategy(served, snapshot.model.knows(external_id)), reason)


def _remembering(
    snapshot: Snapshot,
    external_id: str,
    read: CustomerRead,
    query: RecommendationQuery,
    within: np.ndarray | None,
) -> dict[str, Any]:
    """The customer's own items (staples only on the blend), then new ones from the discovery chain."""
    memory, items = snapshot.memory, snapshot.model.items
    assert memory is not None
    known = external_id in snapshot.model.users
    # The read brings the items chosen since training, or all of them (SQLite, or a customer the model
    # lacks): then those chosen at training are not new (a rebuy of one counts at the next training).
    new = items.known_positions(read.seen)
    training = snapshot.model.seen_at_training(external_id) if read.events_from_txid == 0 else None
    if training is not None:
        new.difference_update(training.tolist())
    blend = snapshot.path == Path.BLEND
    slots = query.k - DISCOVERY_SLOTS if blend else query.k
    hidden = (snapshot.inactive_positions, items.known_positions(query.exclude | read.deactivated))
    remembered: list[Remembered] = []
    if known or new:
        user = snapshot.model.users.position(external_id) if known else memory.n_users
        remembered = memory.recall(
            user,
            max(0, slots),
            new_items=new,
            now=time.time(),
            min_times=2 if blend else 1,
            hidden=hidden,
            within=within,
        )
    ids = items.ids_at([r.position for r in remembered])
    answer_items = [
        {"item_id": i, "score": r.score, "reason": r.reason.text}
        for i, r in zip(ids, remembered, strict=True)
    ]
    path = snapshot.path.value
    reason = f"The customer's own items by purchase frequency and recency ({len(remembered)})"
    rest = query.k - len(remembered)
    strategy = str(Strategy.ONE_TO_ONE)
    if rest > 0:
        remembered_ids = frozenset(ids)
        served = snapshot.recommender.recommend(
            rest,
            customer_id=external_id,
            preferences=read.preferences,
            segment=read.segment,
            start=snapshot.strategy.start,
            item_filter=ItemFilter(
                seen=read.seen, excluded=query.exclude | read.deactivated | remembered_ids, within=within
            ),
            hide_training_choices=read.events_from_txid > 0,
        )
        why = ITEM_REASONS[served.path]
        answer_items += [
            {"item_id": i, "score": score, "reason": why}
            for i, score in zip(served.item_ids, served.scores, strict=True)
        ]
        reason += f", then new to the customer: {served.reason}"
        if not remembered:
            path, strategy = PATH_NAMES[served.path], _strategy(served, known)
    return {
        "items": answer_items,
        "strategy": strategy,
        "path": path,
        "reason": f"{reason}. At training the gate chose {snapshot.path}: {snapshot.gate_reason}",
        "model_version": snapshot.version_id,
    }


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
    metrics.served(str(served.path), str(strategy))
    why = ITEM_REASONS[served.path]
    return {
        "items": [
            {"item_id": item_id, "score": score, "reason": why}
            for item_id, score in zip(served.item_ids, served.scores, strict=True)
        ],
        "strategy": str(strategy),
        "path": PATH_NAMES[served.path],
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
