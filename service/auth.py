"""API keys on requests: who is calling, for which tenant, in which role."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.batching import BatchLoader
from service.db import session_scope, utcnow
from service.errors import Forbidden, Unauthorized
from service.logs import TENANT_SCOPE_KEY
from service.tenancy import repository
from service.tenancy.models import Role
from service.tenancy.service import hash_key

# The change notification that drops a tenant's resolved keys: `k <tenant_id>`.
KEY_NOTICE = "k"
# Once this share of an entry's life has passed, the key is read again in the background while requests
# go on finding the entry; one that expired (no request in its last quarter) is read while they wait.
REFRESH_AT = 0.75
logger = logging.getLogger("tailorwise.auth")
bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer tw_...`")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of a request."""

    key_id: int
    tenant_id: int
    role: Role


class _Entry:
    """A resolved key: kept until `until`, read again from `refresh_after`; use written from `touch_after`."""

    __slots__ = ("caller", "refresh_after", "touch_after", "until")

    def __init__(self, now: float, lifetime: float, caller: Caller | None, read_ahead: bool) -> None:
        self.until = now + lifetime
        self.refresh_after = now + lifetime * REFRESH_AT if read_ahead else math.inf
        self.caller = caller
        self.touch_after = 0.0


class KeyCache:
    """Resolved keys kept a while, so a request costs no extra database read.

    Used on the event loop only. A key in use is read again in the background before its entry
    expires (from REFRESH_AT of its life on), so requests under load never wait for it; requests that
    find an entry expired share one database read (a single flight per key). Revocation: on
    PostgreSQL, a change to api_keys notifies `k <tenant>` at commit (migration 0016) and the serving
    change listener calls `notified`, dropping the tenant's keys here within the notification's
    delivery (milliseconds). While no listener confirms delivery (`live` False: SQLite, or the
    listening connection down), entries last at most `unheard_seconds` (1 s), which bounds how long a
    revoked key still works in any process. An entry never outlives its key's expiry.
    """

    def __init__(
        self,
        engine: Engine,
        ttl_seconds: float,
        unheard_seconds: float = 1.0,
        touch_every_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._unheard = min(ttl_seconds, unheard_seconds)
        self._touch_every = touch_every_seconds
        self._entries: dict[str, _Entry] = {}
        self._loads = BatchLoader(self._load_in_thread, concurrency=2)
        self._heard = 0  # key notices and resets so far: a read that overlapped one is not kept
        self._touch_pending: set[int] = set()
        self._touching: asyncio.Task[None] | None = None
        self._refreshing: set[asyncio.Task[None]] = set()
        self._now = clock
        self.live = False

    def cached(self, key: str) -> tuple[bool, Caller | None]:
        """(True, caller-or-None) when the key was resolved recently; (False, None) when it must be read."""
        digest = hash_key(key)
        entry = self._entries.get(digest)
        if entry is None:
            return False, None
        now = self._now()
        if entry.until <= now:
            return False, None
        if entry.refresh_after <= now:
            self._refresh(digest, entry)
        if entry.caller is not None and entry.touch_after <= now:
            self._touch(entry, now)
        return True, entry.caller

    async def resolve(self, key: str) -> Caller | None:
        """The caller for a key, or None for an unknown, revoked or expired key (reads on a miss)."""
        known, caller = self.cached(key)
        if known:
            return caller
        return await self._read(hash_key(key))

    async def _read(self, digest: str) -> Caller | None:
        """Read a key and keep what was read, unless a notice about keys arrived meanwhile."""
        heard, caller, expires_in = await self._loads.load(digest)
        if heard == self._heard:
            if len(self._entries) > 10_000:
                self._entries.clear()
            now = self._now()
            previous = self._entries.get(digest)
            lifetime = self._ttl if self.live else self._unheard
            # A key that expires within the entry's life is not read ahead: it will be refused then.
            entry = _Entry(now, min(lifetime, expires_in), caller, read_ahead=expires_in > lifetime)
            if previous is not None and previous.caller == caller:
                entry.touch_after = previous.touch_after
            self._entries[digest] = entry
            if caller is not None and entry.touch_after <= now:
                self._touch(entry, now)
        return caller

    def _refresh(self, digest: str, entry: _Entry) -> None:
        """Read a key in use again in the background (once per entry); requests keep the entry meanwhile."""
        entry.refresh_after = math.inf
        task = asyncio.get_running_loop().create_task(self._read_quietly(digest))
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def _read_quietly(self, digest: str) -> None:
        """A background read: when it fails, the entry simply expires and the next request reads."""
        try:
            await self._read(digest)
        except Exception:
            logger.warning("could not read a key again ahead of its expiry", exc_info=True)

    def forget_tenant(self, tenant_id: int) -> None:
        """Drop the tenant's resolved keys (a key of it changed); reads in flight are not kept."""
        self._heard += 1
        for digest in [d for d, e in self._entries.items() if e.caller and e.caller.tenant_id == tenant_id]:
            del self._entries[digest]

    def notified(self, payload: str) -> None:
        """A change notification: `k <tenant>` drops that tenant's keys; other kinds are not for keys."""
        kind, _, tenant = payload.partition(" ")
        if kind == KEY_NOTICE:
            if tenant.isdigit():
                self.forget_tenant(int(tenant))
            else:
                self.reset(self.live)

    def reset(self, live: bool) -> None:
        """Drop every key, and say whether notifications now arrive (the listener (re)connected)."""
        self._heard += 1
        self._entries.clear()
        self.live = live

    def _touch(self, entry: _Entry, now: float) -> None:
        """Have the key's last use written soon (at most once per `touch_every_seconds` per process)."""
        assert entry.caller is not None
        entry.touch_after = now + self._touch_every
        self._touch_pending.add(entry.caller.key_id)
        if self._touching is None:
            self._touching = asyncio.get_running_loop().create_task(self._write_touches())

    async def _write_touches(self) -> None:
        """Write the pending last uses in one statement, off the event loop."""
        try:
            while self._touch_pending:
                key_ids = sorted(self._touch_pending)
                self._touch_pending.clear()
                await run_in_threadpool(self._write_last_used, key_ids)
        except Exception:  # last use is informative: never fail a request for it
            logger.warning("could not write keys' last use", exc_info=True)
        finally:
            self._touching = None

    def _write_last_used(self, key_ids: list[int]) -> None:
        """UPDATE api_keys.last_used_at."""
        with session_scope(self._engine) as session:
            repository.touch_keys(session, key_ids, utcnow(), timedelta(seconds=self._touch_every))

    async def _load_in_thread(self, digests: list[str]) -> list[tuple[int, Caller | None, float]]:
        heard = self._heard
        rows = await run_in_threadpool(self._load, digests)
        return [(heard, caller, expires_in) for caller, expires_in in rows]

    def _load(self, digests: list[str]) -> list[tuple[Caller | None, float]]:
        """Read the key rows: each caller (None: unknown) and the seconds until the key expires."""
        now = utcnow()
        with Session(self._engine) as session:
            rows = [repository.find_active_key(session, digest, now) for digest in digests]
        return [
            (None, math.inf)
            if row is None or row.id is None
            else (
                Caller(row.id, row.tenant_id, Role(row.role)),
                math.inf if row.expires_at is None else (row.expires_at - now).total_seconds(),
            )
            for row in rows
        ]


async def _caller_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """The caller named by the bearer key; 401 when missing or unknown (no thread hop on a cached key)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    state = request.app.state
    cache: KeyCache = state.key_cache
    known, caller = cache.cached(credentials.credentials)
    if not known:
        caller = await cache.resolve(credentials.credentials)
    if caller is None:
        raise Unauthorized("The API key is unknown, revoked or expired.")
    request.scope[TENANT_SCOPE_KEY] = caller.tenant_id
    state.rate_limiter.take(caller.key_id, caller.role)
    return caller


def require(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits only the given roles (admin always); it runs on the event loop."""
    allowed = {*roles, Role.admin}

    # It reads the key itself rather than through a dependency of its own: each level of dependencies
    # costs FastAPI a pass of parameter solving per request, a noticeable part of a hot endpoint.
    async def _check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        caller = await _caller_of(request, credentials)
        if caller.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"Role {caller.role.value!r} may not do this; needs one of: {names}.")
        return caller

    return _check


# The role dependencies every router uses, declared once (admin passes each of them).
Marketer = Annotated[Caller, Depends(require(Role.marketer))]
Crm = Annotated[Caller, Depends(require(Role.crm))]
Storefront = Annotated[Caller, Depends(require(Role.storefront))]
CrmOrStorefront = Annotated[Caller, Depends(require(Role.crm, Role.storefront))]
MarketerOrCrm = Annotated[Caller, Depends(require(Role.marketer, Role.crm))]
MarketerOrStorefront = Annotated[Caller, Depends(require(Role.marketer, Role.storefront))]
AnyRole = Annotated[Caller, Depends(require(*Role))]
Admin = Annotated[Caller, Depends(require())]
