"""A sorted batch merged in parts while it is read: the same outcome as one merge, locks in key order."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from service.bulk.schemas import SyncResult
from service.db import session_scope
from service.errors import PayloadTooLarge
from service.sync import copy_repository, service
from service.sync.copy_repository import CustomerCopy
from service.sync.merge_repository import Merge
from service.sync.rows import customer_row
from service.tenancy import service as tenancy

ONE_MERGE = 10**9


def row(key: str, day: int, version: int, preferences: list[str] | None = None) -> dict[str, Any]:
    """A customer row as a CRM sends it."""
    return {
        "external_id": key,
        "traits": {"v": version},
        "consent": {"personalization": version % 2 == 0, "profiling": True},
        "source_updated_at": f"2026-01-{day:02d}T00:00:00Z",
        "preferences": None
        if preferences is None
        else [{"attribute": "genre", "value": g} for g in preferences],
    }


def random_batch(rng: random.Random, keys: list[str]) -> list[dict[str, Any]]:
    """Sorted rows for some of the keys, a few twice: older, newer or same days, some with preferences."""
    chosen = sorted(rng.sample(keys, k=len(keys) * 2 // 3) + rng.sample(keys, k=len(keys) // 5))
    genres = ["crime", "poetry", "travel"]
    return [
        row(key, rng.randint(1, 4), rng.randint(0, 2), rng.choice([None, None, rng.sample(genres, k=2)]))
        for key in chosen
    ]


def sync(db, tenant_id: int, rows: list[dict[str, Any]]) -> SyncResult:
    """Sync the rows as one batch and commit."""
    with session_scope(db.engine) as session:
        return service.sync_customers(session, tenant_id, list(enumerate(rows, 1)), len(rows))


def stored(db, tenant_id: int) -> dict[str, tuple[Any, ...]]:
    """Each customer of the tenant: its version, consent, timestamp, preferences and place in the feed."""
    with db.engine.connect() as connection:
        customers = connection.execute(
            sa.text(
                "SELECT id, external_id, traits, consent_personalization, source_updated_at, feed_seq"
                " FROM customers WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        ).all()
        preferences = connection.execute(
            sa.text("SELECT customer_id, value FROM preferences WHERE tenant_id = :t"), {"t": tenant_id}
        ).all()
    return {
        key: (traits, consent, at, sorted(v for c, v in preferences if c == id_), seq)
        for id_, key, traits, consent, at, seq in customers
    }


def moved(before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]) -> set[str]:
    """Keys a batch put at the feed's head (their order within one batch is the statements' own)."""
    return {key for key, row in after.items() if key not in before or row[-1] != before[key][-1]}


@pytest.fixture
def tenants(db) -> tuple[int, int]:
    """Two tenants on PostgreSQL (COPY is PostgreSQL's)."""
    if db.backend != "postgres":
        pytest.skip("the COPY merge is PostgreSQL's")
    with session_scope(db.engine) as session:
        return tenancy.create_tenant(session, "parts").id or 0, tenancy.create_tenant(
            session, "whole"
        ).id or 0


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Parts sent ahead, counted."""
    sent: list[int] = []
    original = Merge.send

    def counted(self: Merge, *args: Any, **kwargs: Any) -> None:
        sent.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Merge, "send", counted)
    return sent


@pytest.mark.parametrize("out_of_order_at", [None, 25])
def test_parts_count_and_store_what_one_merge_does(
    db,
    tenants: tuple[int, int],
    sends: list[int],
    monkeypatch: pytest.MonkeyPatch,
    out_of_order_at: int | None,
) -> None:
    parts, whole = tenants
    keys = [f"k{n:03d}" for n in range(60)]
    rng = random.Random(7)
    before_parts: dict[str, tuple[Any, ...]] = {}
    before_whole: dict[str, tuple[Any, ...]] = {}
    for round_ in range(4):
        batch = random_batch(rng, keys)
        if out_of_order_at is not None:
            batch.insert(out_of_order_at, batch.pop())
        monkeypatch.setattr(copy_repository, "PART_ROWS", 3)
        in_parts = sync(db, parts, batch)
        monkeypatch.setattr(copy_repository, "PART_ROWS", ONE_MERGE)
        at_once = sync(db, whole, batch)
        assert in_parts == at_once, round_
        after_parts, after_whole = stored(db, parts), stored(db, whole)
        assert {k: v[:-1] for k, v in after_parts.items()} == {k: v[:-1] for k, v in after_whole.items()}
        assert moved(before_parts, after_parts) == moved(before_whole, after_whole), round_
        before_parts, before_whole = after_parts, after_whole
    assert len(sends) >= 4 * 5, "the batches were not merged in parts"


def test_a_part_is_merged_on_the_server_while_the_next_is_read(
    db, tenants: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = tenants[0]
    sync(db, tenant, [row(key, 1, 0) for key in ("a", "b", "c")])
    monkeypatch.setattr(copy_repository, "PART_ROWS", 2)
    dsn = sa.make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with session_scope(db.engine) as session, CustomerCopy(session, tenant) as stage:
        for line, key in enumerate(("a", "b", "c"), 1):
            stage.add(line, customer_row(row(key, 2, 1)))
        locked = until_locked(dsn, tenant, "a")
        counts = stage.merge([])
    assert locked, "the first part was not upserted before the batch ended"
    assert counts.updated == 3


def until_locked(dsn: str, tenant: int, key: str) -> bool:
    """Whether another connection finds the customer locked within 10 s."""
    deadline = time.monotonic() + 10
    with psycopg.connect(dsn, autocommit=True) as connection:
        while time.monotonic() < deadline:
            try:
                with connection.transaction():
                    connection.execute(
                        "SELECT 1 FROM customers WHERE tenant_id = %s AND external_id = %s FOR UPDATE NOWAIT",
                        (tenant, key),
                    )
            except psycopg.errors.LockNotAvailable:
                return True
            time.sleep(0.01)
    return False


def test_concurrent_batches_in_parts_never_deadlock(
    db, tenants: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = tenants[0]
    monkeypatch.setattr(copy_repository, "PART_ROWS", 2)
    keys = [f"k{n:02d}" for n in range(30)]
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(6):
                batch = [row(key, rng.randint(1, 28), seed) for key in sorted(rng.sample(keys, k=20))]
                if seed % 2:
                    batch.insert(15, batch.pop(3))
                sync(db, tenant, batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(stored(db, tenant)) == len(keys)


def test_a_batch_failing_with_parts_on_the_server_writes_nothing(
    db, tenants: tuple[int, int], sends: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = tenants[0]
    monkeypatch.setattr(copy_repository, "PART_ROWS", 2)
    rows = [row(f"k{n:02d}", 1, 0) for n in range(9)]
    with pytest.raises(PayloadTooLarge), session_scope(db.engine) as session:
        service.sync_customers(session, tenant, list(enumerate(rows, 1)), 8)
    assert sends, "no part was on the server when the batch failed"
    assert stored(db, tenant) == {}
    assert sync(db, tenant, rows[:3]).created == 3
