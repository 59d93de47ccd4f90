"""The serving cache: new versions picked up under traffic, catalog changes rebuilt, tenants dropped."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from service.db import session_scope
from service.recommendations.cache import ModelCache


def test_a_new_version_is_served_under_traffic_without_errors(bookstore) -> None:
    old = bookstore.version
    answers: dict[int, list[int]] = {n: [] for n in range(4)}
    failures: list[str] = []
    stop = threading.Event()

    def hammer(n: int) -> None:
        while not stop.is_set():
            response = bookstore.get("/v1/customers/c5/recommendations", k=5)
            if response.status_code != 200:
                failures.append(response.text)
            else:
                answers[n].append(response.json()["model_version"])

    threads = [threading.Thread(target=hammer, args=(n,)) for n in answers]
    for thread in threads:
        thread.start()
    try:
        new = bookstore.train()["summary"]["model_version"]
        # Bounded by attempts, not by a clock: every thread must come to answer with the new version.
        for _ in range(2_000):
            if all(new in seen for seen in answers.values()):
                break
            stop.wait(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures and new != old
    for seen in answers.values():
        assert set(seen) <= {old, new} and new in seen
        # Once a worker thread saw the new version, it never got the old one again.
        assert old not in seen[seen.index(new) :]
    assert bookstore.get("/v1/customers/c5/recommendations", k=5).json()["model_version"] == new


def test_refresh_rebuilds_on_catalog_changes_only(bookstore, db) -> None:
    cache = ModelCache(db.engine, interval_seconds=60, read_connections=1)
    cache.refresh()
    snapshot = cache.get(1)
    assert snapshot is not None and snapshot.version_id == bookstore.version and not snapshot.inactive
    cache.refresh()
    assert cache.get(1) is snapshot
    bookstore.deactivate(["b7"])
    cache.refresh()
    rebuilt = cache.get(1)
    assert rebuilt is not snapshot and rebuilt is not None and rebuilt.inactive == {"b7"}
    assert rebuilt.model is snapshot.model and rebuilt.since is not None


def test_refresh_drops_tenants_without_versions(bookstore, db) -> None:
    cache = ModelCache(db.engine, interval_seconds=60, read_connections=1)
    cache.refresh()
    assert cache.get(1) is not None and cache.get(2) is None
    with session_scope(db.engine) as session:
        session.execute(sa.text("DELETE FROM model_versions"))
    cache.refresh()
    assert cache.get(1) is None
