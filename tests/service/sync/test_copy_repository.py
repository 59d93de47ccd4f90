"""The PostgreSQL customer merge on its own: COPY into staging, then last writer wins in set-based SQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from service.bulk.lww import MergeCounts
from service.db import session_scope
from service.sync.copy_repository import CustomerCopy
from service.sync.rows import customer_row
from service.tenancy import service as tenancy


def row(external_id: str, at: str, traits: dict[str, Any], preferences: list[Any] | None = None) -> Any:
    """A checked customer row."""
    raw = {
        "external_id": external_id,
        "traits": traits,
        "consent": {"personalization": True, "profiling": True},
        "source_updated_at": at,
        "preferences": preferences,
    }
    return customer_row(raw)


def merge(db, tenant_id: int, rows: list[Any], losers: tuple[int, ...] = ()) -> MergeCounts:
    """Stage the rows (line numbers from 1) through COPY and merge all but the losers."""
    with session_scope(db.engine) as session, CustomerCopy(session, tenant_id) as stage:
        for line, staged in enumerate(rows, 1):
            stage.add(line, staged)
        return stage.merge(list(losers))


def stored(db) -> dict[str, tuple[Any, ...]]:
    """Each stored customer's traits and preferences."""
    with db.engine.connect() as connection:
        customers = connection.execute(sa.text("SELECT id, external_id, traits FROM customers")).all()
        preferences = connection.execute(sa.text("SELECT customer_id, value FROM preferences")).all()
    return {
        external_id: (traits, sorted(v for c, v in preferences if c == customer_id))
        for customer_id, external_id, traits in customers
    }


@pytest.fixture
def tenant(db) -> int:
    """A tenant on PostgreSQL (COPY is PostgreSQL's)."""
    if db.backend != "postgres":
        pytest.skip("the COPY merge is PostgreSQL's")
    with session_scope(db.engine) as session:
        return tenancy.create_tenant(session, "acme").id or 0


def test_the_merge_creates_updates_and_counts_stale_and_unchanged_rows(db, tenant: int) -> None:
    genre = [{"attribute": "genre", "value": "crime"}]
    first = merge(
        db, tenant, [row("a", "2026-01-01T00:00:00Z", {"v": 1}, genre), row("b", "2026-01-01T00:00:00Z", {})]
    )
    assert first == MergeCounts(created=2)
    later = [
        row("a", "2026-02-01T00:00:00Z", {"v": 2}),  # newer: updated, preferences kept (None)
        row("b", "2025-12-01T00:00:00Z", {"v": 9}),  # older than stored: stale
        row("c", "2026-01-01T00:00:00Z", {}),  # new
    ]
    assert merge(db, tenant, later) == MergeCounts(created=1, updated=1, stale=1)
    replay = [row("a", "2026-02-01T00:00:00Z", {"v": 2})]
    assert merge(db, tenant, replay) == MergeCounts(unchanged=1)
    assert stored(db) == {"a": ({"v": 2}, ["crime"]), "b": ({}, []), "c": ({}, [])}


def test_losers_of_a_batch_are_dropped_and_out_of_order_rows_merge_alike(db, tenant: int) -> None:
    rows = [row("z", "2026-01-01T00:00:00Z", {"v": "lost"}), row("y", "2026-01-01T00:00:00Z", {})]
    rows.append(row("z", "2026-03-01T00:00:00Z", {"v": "won"}, [{"attribute": "genre", "value": "sf"}]))
    assert merge(db, tenant, rows, losers=(1,)) == MergeCounts(created=2)
    assert stored(db) == {"z": ({"v": "won"}, ["sf"]), "y": ({}, [])}
