"""The serving read: concurrent requests batched together each get their own customer's row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from recommender.datasets import bookstore_like
from service.recommendations.cache import Snapshot
from service.recommendations.reads_repository import CustomerRead, ServingReads, read_customer
from tests.service.recommendations.conftest import ShopMaker, seed, tenant_id, transaction_held_open

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def read_since_training(db: Any, tenant: str, snapshot: Snapshot, customer: str) -> CustomerRead:
    """A customer's serving read as the served snapshot asks for it, over a connection of its own."""

    async def read() -> CustomerRead:
        serving = ServingReads(db.engine, size=1)
        try:
            tid = tenant_id(db, tenant)
            return await read_customer(
                serving, tid, customer, snapshot.since, *snapshot.events_since_training(customer)
            )
        finally:
            await serving.close()

    return asyncio.run(read())


def test_batched_reads_answer_each_request_for_its_own_tenant_and_customer(db: Any, make_key: Any) -> None:
    logs = {"acme": bookstore_like(seed=1, customers=30), "other": bookstore_like(seed=2, customers=30)}
    for name, log in logs.items():
        make_key("storefront", name)
        seed(db, name, log, no_consent=frozenset({"c4"}))
    ids = {name: tenant_id(db, name) for name in logs}
    requests = [(ids[name], f"c{n}") for n in range(0, 30, 2) for name in logs] + [(ids["acme"], "nobody")]

    async def reads(together: bool) -> list[CustomerRead]:
        serving = ServingReads(db.engine, size=2)
        try:
            if together:
                return list(await asyncio.gather(*(read_customer(serving, t, c, None) for t, c in requests)))
            return [await read_customer(serving, t, c, EPOCH) for t, c in requests]
        finally:
            await serving.close()

    batched, alone = asyncio.run(reads(True)), asyncio.run(reads(False))
    assert batched == alone
    for (tenant, customer), read in zip(requests, batched, strict=True):
        log = logs["acme" if tenant == ids["acme"] else "other"]
        expected = set(log.item_ids[log.customer_ids == customer].tolist())
        assert read.found == (customer != "nobody")
        assert read.seen == expected
        assert read.consent == (read.found and customer != "c4")


def test_after_training_the_read_brings_only_items_chosen_since(bookstore, db: Any, make_key: Any) -> None:
    snapshot = bookstore.client.app.state.model_cache.get(tenant_id(db, bookstore.tenant))
    trained = set(snapshot.model.items.ids[snapshot.model.seen_at_training("c5")].tolist())
    assert trained == set(bookstore.log.item_ids[bookstore.log.customer_ids == "c5"].tolist())
    event = {"event_id": "late-1", "customer_id": "c5", "type": "view", "item_id": "b-new"}
    event["occurred_at"] = "2027-01-01T00:00:00Z"
    crm = make_key("crm", bookstore.tenant)
    assert bookstore.client.post("/v1/events", json={"events": [event]}, headers=crm).status_code == 200

    seen = read_since_training(db, bookstore.tenant, snapshot, "c5").seen
    if db.backend == "postgres":
        assert snapshot.events_before_txid is not None and snapshot.events_from_txid("c5") > 0
        assert seen == {"b-new"}
    else:  # no transaction ids: every chosen item is read
        assert snapshot.events_from_txid("c5") == 0 and seen == trained | {"b-new"}


def test_a_transaction_open_since_before_training_brings_no_trained_choice_again(
    open_shop: ShopMaker, db: Any, make_key: Any
) -> None:
    if db.backend != "postgres":
        pytest.skip("transaction ids are PostgreSQL's")
    log = bookstore_like(seed=3)
    with transaction_held_open(db):
        shop = open_shop(log)
        snapshot = shop.client.app.state.model_cache.get(tenant_id(db, shop.tenant))
        event = {"event_id": "late-1", "customer_id": "c5", "type": "view", "item_id": "b-new"}
        event["occurred_at"] = "2027-01-01T00:00:00Z"
        crm = make_key("crm", shop.tenant)
        assert shop.client.post("/v1/events", json={"events": [event]}, headers=crm).status_code == 200
        assert read_since_training(db, shop.tenant, snapshot, "c5").seen == {"b-new"}
