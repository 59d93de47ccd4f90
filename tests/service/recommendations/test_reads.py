"""The serving read: concurrent requests batched together each get their own customer's row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from recommender.datasets import bookstore_like
from service.recommendations.repository import CustomerRead, ServingReads, read_customer
from tests.service.recommendations.conftest import seed, tenant_id

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
