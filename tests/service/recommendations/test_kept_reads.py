"""Kept serving reads on PostgreSQL: reused until a notified change, never kept without a listener."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from service.db import session_scope
from service.recommendations import reads_repository
from service.serving import change_listener
from service.serving.read_cache import ReadCache
from tests.notifications import caught_up
from tests.polling import wait_until
from tests.service.recommendations.conftest import Shop, tenant_id


def ids(answer: dict[str, Any]) -> list[str]:
    return [item["item_id"] for item in answer["items"]]


def live_kept_reads(shop: Shop) -> ReadCache[Any, Any]:
    """The app's kept reads once its listener is connected (PostgreSQL only)."""
    kept = shop.client.app.state.model_cache.reads.kept
    if shop.db.backend != "postgres":
        assert kept is None  # no notifications, nothing kept: every request reads
        pytest.skip("reads are kept only on PostgreSQL, which notifies changes")
    wait_until(lambda: kept.live)
    return kept  # type: ignore[no-any-return]


@contextmanager
def unnotified(shop: Shop, table: str) -> Iterator[None]:
    """Writes to a table that serving is not told of (its notifying triggers disabled)."""
    with session_scope(shop.db.engine) as session:
        session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    try:
        yield
    finally:
        with session_scope(shop.db.engine) as session:
            session.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def buy(shop: Shop, crm: dict[str, str], customer: str, item: str) -> None:
    event = {
        "event_id": f"late-{customer}-{item}",
        "customer_id": customer,
        "type": "purchase",
        "item_id": item,
    }
    event["occurred_at"] = "2027-01-01T00:00:00Z"
    response = shop.client.post("/v1/events", json={"events": [event]}, headers=crm)
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text


def test_a_kept_read_serves_until_a_notified_change_drops_it(bookstore, make_key) -> None:
    live_kept_reads(bookstore)
    crm = make_key("crm", bookstore.tenant)
    caught_up(bookstore.client, bookstore.db)  # no late notification of the setup drops the read
    top = ids(bookstore.recommend("c5", k=5))
    with unnotified(bookstore, "events"):
        buy(bookstore, crm, "c5", top[0])
    # Serving was not told: the kept read, from before the purchase, still answers.
    assert ids(bookstore.recommend("c5", k=5)) == top
    buy(bookstore, crm, "c5", top[1])
    wait_until(lambda: not {top[0], top[1]} & set(ids(bookstore.recommend("c5", k=5))))


def test_a_withdrawn_consent_reaches_serving(bookstore, make_key) -> None:
    live_kept_reads(bookstore)
    assert bookstore.recommend("c5")["strategy"] == "one-to-one"
    withdrawn = {"consent": {"personalization": False, "profiling": True}}
    response = bookstore.client.put(
        "/v1/customers/c5", json=withdrawn, headers=make_key("crm", bookstore.tenant)
    )
    assert response.status_code == 200, response.text
    wait_until(lambda: bookstore.recommend("c5")["strategy"] == "popular")


def test_without_the_listener_nothing_is_kept_until_it_is_back(bookstore, make_key) -> None:
    kept = live_kept_reads(bookstore)
    crm = make_key("crm", bookstore.tenant)
    top = ids(bookstore.recommend("c5", k=5))
    with session_scope(bookstore.db.engine) as session:
        ended = session.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": change_listener.LISTENER_NAME},
        ).all()
    assert ended
    wait_until(lambda: not kept.live)
    with unnotified(bookstore, "events"):  # a change the lost listener could not have heard of
        buy(bookstore, crm, "c5", top[0])
    assert top[0] not in ids(bookstore.recommend("c5", k=5))
    wait_until(lambda: kept.live)
    assert top[0] not in ids(bookstore.recommend("c5", k=5))


def test_a_listener_whose_probe_does_not_come_back_keeps_nothing(db: Any, monkeypatch: Any) -> None:
    if db.backend != "postgres":
        pytest.skip("notifications are PostgreSQL's")
    monkeypatch.setattr(change_listener, "LISTEN_PING_SECONDS", 0.2)
    reads = reads_repository.ServingReads(db.engine, size=1, kept_reads=10)
    kept, listener = reads.kept, reads.connections.listener
    assert kept is not None and listener is not None

    async def hear_without_listening() -> None:
        # As behind a pooler in transaction mode: the connection works, but nothing is delivered.
        async with await reads.connections.connect() as connection:
            with pytest.raises(TimeoutError, match="probe"):
                await listener._hear_for_a_while(connection, "tailorwise_serving", kept)

    asyncio.run(hear_without_listening())
    assert not kept.live


class Overtaken(reads_repository.ServingReads):
    """Serving reads whose first batch is overtaken: a purchase commits, and is heard, before it returns."""

    def __init__(self, *args: Any, purchase: Callable[[], None], tenant_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._purchase: Callable[[], None] | None = purchase
        self._tenant_id = tenant_id

    async def _customer_rows(self, keys: list[reads_repository.CustomerKey]) -> list[tuple[Any, ...]]:
        rows = await super()._customer_rows(keys)
        if self._purchase is not None and self.kept is not None:
            purchase, self._purchase = self._purchase, None
            heard = self.kept.token(self._tenant_id)
            await asyncio.to_thread(purchase)
            while self.kept.token(self._tenant_id) == heard:
                await asyncio.sleep(0.005)
        return rows


def test_a_read_overtaken_by_a_change_is_not_kept(bookstore, db: Any) -> None:
    live_kept_reads(bookstore)
    tid = tenant_id(db, bookstore.tenant)

    def purchase() -> None:
        with session_scope(db.engine) as session:
            session.execute(
                sa.text(
                    "INSERT INTO events (tenant_id, customer_id, event_id, type, item_id, weight,"
                    " occurred_at) SELECT tenant_id, id, 'overtaking', 'purchase', 'b-new', 1, now()"
                    " FROM customers"
                    " WHERE tenant_id = :tenant AND external_id = 'c5'"
                ),
                {"tenant": tid},
            )

    async def reads_of_c5() -> tuple[Any, Any, Any]:
        reads = Overtaken(db.engine, 1, 10, purchase=purchase, tenant_id=tid)
        reads.start()
        try:
            kept = reads.kept
            assert kept is not None
            while not kept.live:
                await asyncio.sleep(0.01)
            key = reads_repository.CustomerKey(tid, "c5", datetime(1970, 1, 1, tzinfo=UTC))
            overtaken = await reads.customer(key)
            assert kept.get(tid, "c5", key) is None  # taken before the purchase: not kept
            fresh = await reads.customer(key)
            return overtaken, fresh, kept.get(tid, "c5", key)
        finally:
            await reads.close()

    overtaken, fresh, kept_now = asyncio.run(reads_of_c5())
    assert "b-new" not in overtaken.seen and "b-new" in fresh.seen and kept_now is fresh


class Held:
    """Hearers whose notifications wait until released: a listener that has not yet handled them."""

    def __init__(self, hearers: Any) -> None:
        self._hearers = hearers
        self.held: list[str] = []

    @property
    def live(self) -> bool:
        return bool(self._hearers.live)

    def notified(self, payload: str) -> None:
        self.held.append(payload)

    def reset(self, live: bool) -> None:
        self._hearers.reset(live)

    def release(self) -> None:
        for payload in self.held:
            self._hearers.notified(payload)
        self.held.clear()


@contextmanager
def notifications_held(shop: Shop) -> Iterator[Held]:
    """The app's listener hears notifications but handles none until the block ends."""
    hearers = shop.client.app.state.model_cache.reads.connections._hearers
    original = list(hearers._hearers)
    held = Held(change_listener.Hearers(original))
    hearers._hearers[:] = [held]
    try:
        yield held
    finally:
        hearers._hearers[:] = original
        held.release()


def test_a_write_is_seen_by_its_own_worker_before_its_notification_is_handled(bookstore) -> None:
    live_kept_reads(bookstore)
    top = ids(bookstore.recommend("c5", k=5))
    assert ids(bookstore.recommend("c5", k=5)) == top  # kept now
    with notifications_held(bookstore) as held:
        bookstore.deactivate([top[0]])
        # The worker that wrote has not handled the notification yet, and still sees its own write.
        assert top[0] not in ids(bookstore.recommend("c5", k=5))
        wait_until(lambda: bool(held.held))
    assert top[0] not in ids(bookstore.recommend("c5", k=5))


def test_events_posted_to_a_worker_are_seen_by_it_before_their_notification(bookstore, make_key) -> None:
    live_kept_reads(bookstore)
    crm = make_key("crm", bookstore.tenant)
    top = ids(bookstore.recommend("c5", k=5))
    assert ids(bookstore.recommend("c5", k=5)) == top  # kept now
    with notifications_held(bookstore) as held:
        buy(bookstore, crm, "c5", top[0])  # written by COPY on the driver's connection
        assert top[0] not in ids(bookstore.recommend("c5", k=5))
        wait_until(lambda: bool(held.held))
