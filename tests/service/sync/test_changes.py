"""The change feed: order, paging, tombstones, tenants, and completeness under concurrent writers."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.db import session_scope
from service.sync import service
from service.tenancy import repository as tenants

NDJSON = {"content-type": "application/x-ndjson"}


def row(name: str, at: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    """A valid customer row."""
    return {
        "external_id": name,
        "traits": {"name": name},
        "consent": {"personalization": True, "profiling": True},
        "source_updated_at": at,
    }


def post(client: TestClient, headers: dict[str, str], names: list[str]) -> None:
    """Sync customers over HTTP."""
    body = b"\n".join(orjson.dumps(row(n)) for n in names)
    assert client.post("/v1/sync/customers", content=body, headers={**headers, **NDJSON}).status_code == 200


def page(client: TestClient, headers: dict[str, str], after: str | None, limit: int = 100) -> dict[str, Any]:
    """One page of the feed."""
    params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
    response = client.get("/v1/sync/changes", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def follow(
    client: TestClient, headers: dict[str, str], after: str | None, limit: int = 100, expect: int = 0
) -> tuple[list, str]:
    """Every change after a cursor, page by page, waiting up to 20 s for `expect` of them.

    On PostgreSQL any transaction still open in the cluster holds the feed's horizon back, so
    changes committed a moment ago may show up only on a later poll.
    """
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while True:
        body = page(client, headers, after, limit)
        seen += body["items"]
        after = body["next_cursor"]
        if not body["items"]:
            if len(seen) >= expect or time.monotonic() > deadline:
                return seen, after
            time.sleep(0.05)


def write(db: Any, tenant_id: int, names: list[str]) -> None:
    """Sync customers through the service layer in a transaction of its own."""
    with session_scope(db.engine) as session:
        service.sync_customers(session, tenant_id, list(enumerate((row(n) for n in names), 1)), 1_000)


def tenant_id(db: Any, name: str = "acme") -> int:
    """The id of a tenant."""
    with session_scope(db.engine) as session:
        tenant = tenants.get_tenant_by_name(session, name)
        assert tenant is not None and tenant.id is not None
        return tenant.id


def test_feed_pages_in_order_and_keeps_cursor_when_idle(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    empty = page(client, crm, None)
    assert empty["items"] == []
    post(client, crm, ["a", "b", "c"])
    post(client, crm, ["d", "e"])
    seen, cursor = follow(client, crm, empty["next_cursor"], limit=2, expect=5)
    assert [c["external_id"] for c in seen] == ["a", "b", "c", "d", "e"]
    assert seen[0]["profile"]["traits"] == {"name": "a"} and seen[0]["deleted"] is False
    assert page(client, crm, cursor)["next_cursor"] == cursor
    post(client, crm, ["b"])
    post(client, crm, ["f"])
    assert [c["external_id"] for c in follow(client, crm, cursor, expect=1)[0]] == ["f"]
    again = [c["external_id"] for c in follow(client, crm, None, expect=6)[0]]
    assert again == ["a", "b", "c", "d", "e", "f"]


def test_changed_customer_moves_to_the_head(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    post(client, crm, ["a", "b"])
    _, cursor = follow(client, crm, None, expect=2)
    client.put("/v1/customers/a", json={"traits": {"v": 2}}, headers=crm)
    seen, _ = follow(client, crm, cursor, expect=1)
    assert [(c["external_id"], c["profile"]["traits"]) for c in seen] == [("a", {"v": 2})]
    assert [c["external_id"] for c in follow(client, crm, None, expect=2)[0]] == ["b", "a"]


def test_erasure_is_a_tombstone(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    post(client, crm, ["a", "b"])
    _, cursor = follow(client, crm, None, expect=2)
    assert client.delete("/v1/customers/a", headers=crm).status_code == 200
    seen, _ = follow(client, crm, cursor, expect=1)
    assert [(c["external_id"], c["deleted"], c["profile"]) for c in seen] == [("a", True, None)]


def test_a_customer_created_again_after_erasure_is_live_in_the_feed(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    post(client, crm, ["a", "b"])
    _, cursor = follow(client, crm, None, expect=2)
    assert client.delete("/v1/customers/a", headers=crm).status_code == 200
    _, after_erasure = follow(client, crm, cursor, expect=1)
    post(client, crm, ["a"])
    seen, _ = follow(client, crm, after_erasure, expect=1)
    assert [(c["external_id"], c["deleted"]) for c in seen] == [("a", False)]
    everything = [(c["external_id"], c["deleted"]) for c in follow(client, crm, None, expect=2)[0]]
    assert everything == [("b", False), ("a", False)]


def test_tombstones_and_changes_interleave_in_one_order_across_pages(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    post(client, crm, ["a", "b", "c", "d"])
    _, cursor = follow(client, crm, None, expect=4)
    assert client.delete("/v1/customers/b", headers=crm).status_code == 200
    post(client, crm, ["e"])
    assert client.delete("/v1/customers/a", headers=crm).status_code == 200
    client.put("/v1/customers/c", json={"traits": {"v": 2}}, headers=crm)
    seen, _ = follow(client, crm, cursor, limit=1, expect=4)
    assert [(c["external_id"], c["deleted"]) for c in seen] == [
        ("b", True),
        ("e", False),
        ("a", True),
        ("c", False),
    ]


def test_a_customer_first_seen_in_an_event_enters_the_feed(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    event = {"event_id": "e1", "customer_id": "walk-in", "type": "view", "item_id": "b1"}
    event["occurred_at"] = "2026-01-01T00:00:00Z"
    assert client.post("/v1/events", json={"events": [event]}, headers=crm).status_code == 200
    seen, _ = follow(client, crm, None, expect=1)
    assert [(c["external_id"], c["deleted"]) for c in seen] == [("walk-in", False)]


def test_feed_is_per_tenant(client: TestClient, make_key) -> None:
    a, b = make_key("crm", tenant="a"), make_key("crm", tenant="b")
    post(client, a, ["only-a"])
    post(client, b, ["only-b"])
    assert [c["external_id"] for c in follow(client, a, None, expect=1)[0]] == ["only-a"]
    assert [c["external_id"] for c in follow(client, b, None, expect=1)[0]] == ["only-b"]


def test_roles_and_bad_cursor(client: TestClient, make_key) -> None:
    assert client.get("/v1/sync/changes", headers=make_key("storefront")).status_code == 403
    bad = client.get("/v1/sync/changes", params={"after": "nope!"}, headers=make_key("crm"))
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "query.after"


def test_open_transaction_holds_back_later_commits(client: TestClient, make_key, db) -> None:
    crm = make_key("crm")
    tid = tenant_id(db)
    _, cursor = follow(client, crm, None)
    written, release = threading.Event(), threading.Event()

    def slow() -> None:
        with session_scope(db.engine) as session:
            service.sync_customers(session, tid, [(1, row("slow"))], 10)
            written.set()
            release.wait(timeout=30)

    slow_writer = threading.Thread(target=slow)
    slow_writer.start()
    assert written.wait(timeout=30)
    fast_writer = threading.Thread(target=write, args=(db, tid, ["fast"]))
    fast_writer.start()
    try:
        fast_writer.join(timeout=2 if db.backend == "postgres" else 0.3)
        if db.backend == "postgres":
            assert not fast_writer.is_alive(), "the fast writer commits while the slow one is open"
        held = page(client, crm, cursor)
        assert held["items"] == [] and held["next_cursor"] == cursor
    finally:
        release.set()
    slow_writer.join(timeout=30)
    fast_writer.join(timeout=30)
    seen, _ = follow(client, crm, cursor, expect=2)
    assert sorted(c["external_id"] for c in seen) == ["fast", "slow"]


def test_follower_misses_nothing_with_two_concurrent_writers(client: TestClient, make_key, db) -> None:
    crm = make_key("crm")
    tid = tenant_id(db)
    batches = {w: [[f"{w}-{b}-{n}" for n in range(4)] for b in range(15)] for w in ("x", "y")}

    def writer(name: str) -> None:
        for names in batches[name]:
            write(db, tid, names)

    threads = [threading.Thread(target=writer, args=(w,)) for w in batches]
    for thread in threads:
        thread.start()
    seen: list[str] = []
    cursor = None
    while any(t.is_alive() for t in threads):
        body = page(client, crm, cursor, limit=5)
        seen += [c["external_id"] for c in body["items"]]
        cursor = body["next_cursor"]
    for thread in threads:
        thread.join()
    expected = {n for names in batches.values() for batch in names for n in batch}
    rest, _ = follow(client, crm, cursor, limit=5, expect=len(expected) - len(seen))
    seen += [c["external_id"] for c in rest]
    assert len(seen) == len(set(seen)), "a change was delivered twice"
    assert set(seen) == expected


def test_concurrent_batches_for_the_same_customers_both_land(client: TestClient, make_key, db) -> None:
    crm = make_key("crm")
    tid = tenant_id(db)
    names = ["p", "q", "r"]
    write(db, tid, ["q"])
    written, release, started = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with session_scope(db.engine) as session:
            rows = [row(n, "2026-02-01T00:00:00Z") for n in names]
            service.sync_customers(session, tid, list(enumerate(rows, 1)), 10)
            written.set()
            release.wait(timeout=30)

    def second() -> None:
        started.set()
        try:
            with session_scope(db.engine) as session:
                rows = [{**row(n, "2026-03-01T00:00:00Z"), "traits": {"v": 2}} for n in names]
                service.sync_customers(session, tid, list(enumerate(rows, 1)), 10)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert written.wait(timeout=30)
    threads[1].start()
    until_a_writer_waits(db, started)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    seen, _ = follow(client, crm, None, expect=3)
    assert sorted(c["external_id"] for c in seen) == names
    assert all(c["profile"]["traits"] == {"v": 2} for c in seen)


def until_a_writer_waits(db, started: threading.Event) -> None:
    """Return once the second writer is blocked behind the first one's locks."""
    assert started.wait(timeout=30)
    if db.backend != "postgres":
        return  # SQLite: BEGIN IMMEDIATE serializes writers, so the second one waits whatever the timing
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.engine.connect() as connection:
        for _ in range(3_000):
            if connection.execute(waiting).scalar_one() > 0:
                return
            started.wait(0.01)
    raise AssertionError("the second writer never waited for the first one's locks")
