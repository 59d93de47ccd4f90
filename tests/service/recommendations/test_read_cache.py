"""Kept serving reads: kept while the listener is live, dropped by what a notification names."""

from __future__ import annotations

from service.serving.read_cache import ReadCache


def live_cache(capacity: int = 10) -> ReadCache[str, str]:
    cache: ReadCache[str, str] = ReadCache(capacity)
    cache.reset(live=True)
    return cache


def keep(cache: ReadCache[str, str], tenant_id: int, external_id: str, key: str = "v1") -> None:
    cache.keep(tenant_id, external_id, key, f"read of {external_id}", cache.token(tenant_id))


def test_a_kept_read_is_found_only_under_the_same_key() -> None:
    cache = live_cache()
    keep(cache, 1, "c1")
    assert cache.get(1, "c1", "v1") == "read of c1"
    assert cache.get(1, "c1", "v2") is None  # another model horizon
    assert cache.get(2, "c1", "v1") is None and cache.get(1, "c2", "v1") is None


def test_nothing_is_kept_while_the_listener_is_down() -> None:
    cache: ReadCache[str, str] = ReadCache(10)
    keep(cache, 1, "c1")
    assert cache.get(1, "c1", "v1") is None
    cache.reset(live=True)
    keep(cache, 1, "c1")
    cache.reset(live=False)
    assert cache.get(1, "c1", "v1") is None


def test_a_read_overtaken_by_a_notification_of_its_tenant_is_not_kept() -> None:
    cache = live_cache()
    before, other_tenant = cache.token(1), cache.token(2)
    cache.notified("c 1 c9")
    cache.keep(1, "c1", "v1", "maybe stale", before)
    cache.keep(2, "c1", "v1", "fresh", other_tenant)
    assert cache.get(1, "c1", "v1") is None and cache.get(2, "c1", "v1") == "fresh"


def test_a_read_taken_before_a_reconnect_is_not_kept() -> None:
    cache = live_cache()
    before = cache.token(1)
    cache.reset(live=False)
    cache.reset(live=True)
    cache.keep(1, "c1", "v1", "maybe stale", before)
    assert cache.get(1, "c1", "v1") is None


def test_a_customer_notification_drops_that_customer_only() -> None:
    cache = live_cache()
    for tenant_id, external_id in [(1, "c1"), (1, "c 2"), (2, "c1")]:
        keep(cache, tenant_id, external_id)
    cache.notified("c 1 c 2")  # external ids may hold spaces
    assert cache.get(1, "c 2", "v1") is None
    assert cache.get(1, "c1", "v1") is not None and cache.get(2, "c1", "v1") is not None


def test_tenant_and_catalog_notifications_drop_the_whole_tenant() -> None:
    for payload in ("t 1", "i 1"):
        cache = live_cache()
        for tenant_id, external_id in [(1, "c1"), (1, "c2"), (2, "c1")]:
            keep(cache, tenant_id, external_id)
        cache.notified(payload)
        assert cache.get(1, "c1", "v1") is None and cache.get(1, "c2", "v1") is None
        assert cache.get(2, "c1", "v1") is not None


def test_an_unreadable_notification_drops_everything() -> None:
    for payload in ("", "x 1 c1", "c one c1", "c"):
        cache = live_cache()
        keep(cache, 1, "c1")
        keep(cache, 2, "c1")
        cache.notified(payload)
        assert cache.get(1, "c1", "v1") is None and cache.get(2, "c1", "v1") is None
        assert cache.live


def test_each_tenant_keeps_at_most_capacity_reads_the_oldest_dropped_first() -> None:
    cache = live_cache(capacity=3)
    for n in range(5):
        keep(cache, 1, f"c{n}")
    keep(cache, 2, "c0")
    assert [n for n in range(5) if cache.get(1, f"c{n}", "v1") is not None] == [2, 3, 4]
    assert cache.get(2, "c0", "v1") is not None
    keep(cache, 1, "c2", "v2")  # kept again: now the newest
    keep(cache, 1, "c5")
    assert cache.get(1, "c2", "v2") is not None and cache.get(1, "c3", "v1") is None


def test_listeners_probes_are_ignored() -> None:
    cache = live_cache()
    keep(cache, 1, "c1")
    before = cache.token(1)
    cache.notified("p 5f2a9c")
    assert cache.get(1, "c1", "v1") is not None and cache.token(1) == before


def test_a_customers_parts_go_together_and_each_cache_hears_only_its_tenant_wide_kinds() -> None:
    """Treatment keeps an answer per touchpoint (`part`) and drops on `s`; recommendations ignore `s`."""
    answers: ReadCache[str, str] = ReadCache(10, drops=frozenset({"t", "i", "s"}))
    reads = live_cache()
    answers.reset(live=True)
    for part in ("support", "checkout"):
        answers.keep(1, "c1", "v1", f"answer at {part}", answers.token(1), part)
    answers.keep(1, "c2", "v1", "answer of c2", answers.token(1), "support")
    keep(reads, 1, "c1")
    assert answers.get(1, "c1", "v1", "checkout") == "answer at checkout"
    answers.notified("c 1 c1")
    assert answers.get(1, "c1", "v1", "support") is None and answers.get(1, "c1", "v1", "checkout") is None
    assert answers.get(1, "c2", "v1", "support") == "answer of c2"
    answers.notified("s 1")
    reads.notified("s 1")
    assert answers.get(1, "c2", "v1", "support") is None
    assert reads.get(1, "c1", "v1") == "read of c1"  # a touchpoint or settings change is not theirs
