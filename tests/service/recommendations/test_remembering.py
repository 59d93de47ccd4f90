"""Remembering through the API: the gate's path, exclude_seen's default, each item's reason, new purchases."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlmodel import col

from recommender.datasets import EventLog, petrol_like, repeat_purchase_like
from recommender.repeat_gate import split_last_basket
from service.db import session_scope, utcnow
from service.profiles.models import Customer, Event
from tests.service.recommendations.conftest import Shop, ShopMaker, tenant_id, transaction_held_open

REMEMBERED = re.compile(r"^bought (once|\d+ times), last \d+ days ago$")
DISCOVERY = {"customers with your taste bought it", "popular in your segment", "popular"}


def held_out_tenant(log: EventLog) -> tuple[EventLog, dict[str, set[str]]]:
    """The log without each customer's latest basket, and those baskets."""
    split = split_last_basket(log.customer_ids, log.times)
    held: dict[str, set[str]] = {}
    for customer, item in zip(
        log.customer_ids[split.test].tolist(), log.item_ids[split.test].tolist(), strict=True
    ):
        held.setdefault(customer, set()).add(item)
    train = split.train
    kept = EventLog(
        customer_ids=log.customer_ids[train],
        item_ids=log.item_ids[train],
        weights=log.weights[train],
        times=log.times[train],
        item_features=log.item_features,
        customer_segments=log.customer_segments,
    )
    return kept, held


def hits(shop: Shop, held: dict[str, set[str]], customer_of: dict[str, str]) -> float:
    """Mean items of each customer's held-out basket among the 10 served to `customer_of[customer]`."""
    found = [
        len(basket & {i["item_id"] for i in shop.recommend(customer_of[c])["items"]})
        for c, basket in held.items()
    ]
    return float(np.mean(found))


def buy(shop: Shop, customer: str, item: str) -> None:
    """One new purchase, written as an event sync would, after the model was trained."""
    tid = tenant_id(shop.db, shop.tenant)
    with session_scope(shop.db.engine) as session:
        found = session.execute(
            sa.select(col(Customer.id)).where(
                col(Customer.tenant_id) == tid, col(Customer.external_id) == customer
            )
        ).scalar_one()
        session.add(
            Event(
                tenant_id=tid,
                customer_id=found,
                event_id=f"new-{customer}-{item}",
                type="purchase",
                item_id=item,
                weight=1.0,
                occurred_at=utcnow() - timedelta(seconds=1),
            )
        )


@pytest.mark.slow
def test_repeat_tenant_remembers_and_beats_the_popular_list_by_far(open_shop: ShopMaker) -> None:
    train, held = held_out_tenant(repeat_purchase_like(seed=3))
    shop = open_shop(train)
    version = shop.get(f"/v1/models/{shop.version}", "marketer").json()
    gate = version["gate"]
    assert gate["path"] in ("repeat", "blend") and version["strategy"] == gate["path"], gate["reason"]
    assert gate["exclude_seen"] is False and version["reason"].startswith("Remembering pays")
    assert set(gate["candidates"]) == {"repeat", "blend", "one-to-one", "segment", "popular"}
    assert gate["remembering"]["comparisons"][f"{gate['path']}_vs_popular"]["beats"]
    assert gate["strategy"] in ("one-to-one", "segment", "popular") and "hit_rates" in gate
    served = hits(shop, held, {c: c for c in held})
    popular = hits(shop, held, {c: "a-visitor" for c in held})
    assert served > 2.5 * popular, (served, popular)

    answer = shop.recommend("c5")
    assert answer["path"] == gate["path"] and answer["strategy"] == "one-to-one"
    reasons = [item["reason"] for item in answer["items"]]
    assert REMEMBERED.match(reasons[0]) and all(REMEMBERED.match(r) or r in DISCOVERY for r in reasons)
    bought = set(train.item_ids[train.customer_ids == "c5"].tolist())
    assert {item["item_id"] for item in answer["items"]} & bought
    hidden = shop.recommend("c5", exclude_seen="true")
    assert hidden["path"] in ("one-to-one", "segment", "popular")
    assert not {item["item_id"] for item in hidden["items"]} & bought


def test_a_new_purchase_counts_without_retraining(open_shop: ShopMaker) -> None:
    log = repeat_purchase_like(seed=3)
    shop = open_shop(log)
    customer = "c7"
    counts = Counter(log.item_ids[log.customer_ids == customer].tolist())
    never = next(i for i in sorted(set(log.item_ids.tolist())) if i not in counts)
    before = shop.recommend(customer)
    buy(shop, customer, never)
    after = shop.recommend(customer)
    assert never not in [item["item_id"] for item in before["items"]]
    found = {item["item_id"]: item["reason"] for item in after["items"]}
    if after["path"] == "repeat":
        # Bought just now, it weighs more than anything bought before the model's last event.
        assert after["items"][0]["item_id"] == never and found[never] == "bought once, last 0 days ago"
    else:
        # The blend remembers staples only (two purchases): a new item is not one yet.
        assert never not in found or found[never] in DISCOVERY


def test_bookstore_keeps_discovering_and_hides_bought_items(bookstore: Shop) -> None:
    version = bookstore.get(f"/v1/models/{bookstore.version}", "marketer").json()
    assert version["gate"]["path"] == "one-to-one" and version["gate"]["exclude_seen"] is True
    assert version["gate"]["candidates"]["repeat"]["hit_rate"]["estimate"] == 0.0
    answer = bookstore.recommend("c5")
    assert answer["path"] == "one-to-one" and answer["strategy"] == "one-to-one"
    assert {item["reason"] for item in answer["items"]} == {"customers with your taste bought it"}
    bought = set(bookstore.log.item_ids[bookstore.log.customer_ids == "c5"].tolist())
    assert not {item["item_id"] for item in answer["items"]} & bought
    shown = bookstore.recommend("c5", exclude_seen="false")
    assert {item["item_id"] for item in shown["items"]} & bought


def test_petrol_tenant_stays_popular(open_shop: ShopMaker) -> None:
    shop = open_shop(petrol_like(seed=3))
    gate: dict[str, Any] = shop.get(f"/v1/models/{shop.version}", "marketer").json()["gate"]
    assert gate["path"] == "popular" and gate["exclude_seen"] is True
    assert not gate["remembering"]["comparisons"]["repeat_vs_popular"]["beats"]
    answer = shop.recommend("c5", exclude_seen="false")
    assert answer["path"] == "popular" and {item["reason"] for item in answer["items"]} == {"popular"}


def test_purchases_trained_on_are_not_counted_again_while_an_older_transaction_runs(
    open_shop: ShopMaker, db: Any
) -> None:
    if db.backend != "postgres":
        pytest.skip("transaction ids are PostgreSQL's")
    log = repeat_purchase_like(seed=3)
    with transaction_held_open(db):
        shop = open_shop(log)
        answer = shop.recommend("c7")
    counts = Counter(log.item_ids[log.customer_ids == "c7"].tolist())
    remembered = {i["item_id"]: i["reason"] for i in answer["items"] if REMEMBERED.match(i["reason"])}
    assert remembered, answer
    for item, reason in remembered.items():
        times = "once" if counts[item] == 1 else f"{counts[item]} times"
        assert reason.startswith(f"bought {times}, "), (item, reason, counts[item])
