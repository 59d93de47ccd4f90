"""The serving cache: new versions picked up under traffic, catalog changes rebuilt, tenants dropped."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from service.db import session_scope
from service.recommendations.cache import ModelCache


def test_a_new_version_is_served_under_traffic_without_errors(bookstore, settings) -> None:
    old = bookstore.version
    answers: list[tuple[float, int]] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            response = bookstore.get("/v1/customers/c5/recommendations", k=5)
            if response.status_code != 200:
                failures.append(response.text)
            else:
                answers.append((time.monotonic(), response.json()["model_version"]))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        run = bookstore.train()
        published = time.monotonic()
        time.sleep(settings.model_reload_seconds * 4 + 0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    new = run["summary"]["model_version"]
    assert not failures and new != old
    assert {version for _, version in answers} == {old, new}
    settled = published + settings.model_reload_seconds * 2 + 0.1
    assert {version for at, version in answers if at > settled} == {new}


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
