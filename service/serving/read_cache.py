"""Serving reads a worker keeps until PostgreSQL notifies it that what they read has changed.

Triggers on customers, events, preferences and items (migration 0008) notify every worker at commit:
`c <tenant> <external_id>` drops one customer's kept read, `t <tenant>` and `i <tenant>` (many
customers, or the catalog, changed) all of a tenant's; `s <tenant>` (migration 0020: the tenant's
touchpoints, treatment, relationship or tailoring settings, attribute decisions or customer values
changed) all of a tenant's kept treatment answers; `k <tenant>` (its API keys changed) is for the
key cache and `w <token>` for this process's own writes (service/own_writes.py), not here. Each cache
says which tenant-wide kinds concern it. A change therefore reaches serving as soon as PostgreSQL
delivers its notification (measured on one host: 0.15 ms after the commit, p99 2 ms); only a request
answered in that window by another worker than the one that wrote still sees the state before it.

A read that was in flight when a notification for its tenant arrived is not kept: it may have been
taken before the change. Nothing is kept, and every request reads, while the listening connection is
down or its own probes stop coming back (`live` is False).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

from service.auth import KEY_NOTICE
from service.metrics import KEPT_HIT, KEPT_MISS
from service.own_writes import OWN_WRITE

__all__ = ["PROBE", "ReadCache"]
# What listeners send themselves to check delivery (`p <random>`); every listener hears and ignores all.
PROBE = "p"
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
# The kinds of notification naming one customer, and those naming all of a tenant's.
CUSTOMER = "c"
TENANT_KINDS = frozenset({"t", "i", "s"})
# What a read saw when it started: the listener's generation and its tenant's notification count.
Token = tuple[int, int]


class ReadCache(Generic[K, V]):
    """Reads kept per tenant and customer, at most `capacity` customers per tenant (the oldest go first).

    A customer may have several reads (`part`: a treatment answer per touchpoint); a notification
    naming the customer drops them all. Tenant-wide notifications of the kinds in `drops` drop all of
    the tenant's reads, the other tenant-wide kinds leave them. Lookups are counted in the kept reads
    metric when `counted`.
    """

    def __init__(
        self, capacity: int, drops: frozenset[str] = frozenset({"t", "i"}), counted: bool = True
    ) -> None:
        self._capacity = capacity
        self._counted = counted
        self._drops = drops
        self._kept: dict[int, dict[str, dict[str, tuple[K, V]]]] = {}
        self._notified: dict[int, int] = {}
        self._generation = 0
        self.live = False

    def get(self, tenant_id: int, external_id: str, key: K, part: str = "") -> V | None:
        """The kept read of a customer, if it was read with the same key (model horizon)."""
        kept = self._kept.get(tenant_id)
        reads = kept.get(external_id) if kept else None
        found = reads.get(part) if reads else None
        if found is not None and found[0] == key:
            if self._counted:
                KEPT_HIT.inc()
            return found[1]
        if self._counted:
            KEPT_MISS.inc()
        return None

    def token(self, tenant_id: int) -> Token:
        """Taken before a read starts, so that `keep` can tell whether a notification overtook it."""
        return self._generation, self._notified.get(tenant_id, 0)

    def keep(self, tenant_id: int, external_id: str, key: K, value: V, token: Token, part: str = "") -> None:
        """Keep a read, unless the listener is down or the tenant was notified since `token`."""
        if not self.live or token != self.token(tenant_id):
            return
        kept = self._kept.setdefault(tenant_id, {})
        reads = kept.pop(external_id, None) or {}
        reads[part] = (key, value)
        kept[external_id] = reads
        if len(kept) > self._capacity:
            del kept[next(iter(kept))]

    def notified(self, payload: str) -> None:
        """Drop what a notification says changed; anything unreadable drops everything."""
        kind, _, rest = payload.partition(" ")
        if kind in (PROBE, KEY_NOTICE, OWN_WRITE):
            return
        tenant, _, external_id = rest.partition(" ")
        if (kind != CUSTOMER and kind not in TENANT_KINDS) or not tenant.isdigit():
            self.reset(self.live)
            return
        if kind != CUSTOMER and kind not in self._drops:
            return
        tenant_id = int(tenant)
        self._notified[tenant_id] = self._notified.get(tenant_id, 0) + 1
        if kind == CUSTOMER:
            self._kept.get(tenant_id, {}).pop(external_id, None)
        else:
            self._kept.pop(tenant_id, None)

    def reset(self, live: bool) -> None:
        """Drop everything, and say whether notifications now arrive (the listener (re)connected)."""
        self._kept.clear()
        self._generation += 1
        self.live = live
