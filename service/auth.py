"""API keys on requests: who is calling, for which tenant, in which role."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.batching import BatchLoader
from service.errors import Forbidden, Unauthorized
from service.tenancy import repository
from service.tenancy.models import Role
from service.tenancy.service import hash_key

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer tw_...`")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of a request."""

    key_id: int
    tenant_id: int
    role: Role


class KeyCache:
    """Resolved keys kept for a few seconds, so a request costs no extra database read.

    Used on the event loop only. When an entry expires under load, the requests that find it
    expired share one database read (a single flight per key), not one read each.
    """

    def __init__(self, engine: Engine, ttl_seconds: float) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Caller | None]] = {}
        self._loads = BatchLoader(self._load_in_thread, concurrency=2)

    def cached(self, key: str) -> tuple[bool, Caller | None]:
        """(True, caller-or-None) when the key was resolved recently; (False, None) when it must be read."""
        entry = self._entries.get(hash_key(key))
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    async def resolve(self, key: str) -> Caller | None:
        """The caller for a key, or None for an unknown or revoked key (reads the database on a miss)."""
        known, caller = self.cached(key)
        if known:
            return caller
        digest = hash_key(key)
        caller = await self._loads.load(digest)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self._ttl, caller)
        return caller

    async def _load_in_thread(self, digests: list[str]) -> list[Caller | None]:
        return await run_in_threadpool(self._load, digests)

    def _load(self, digests: list[str]) -> list[Caller | None]:
        """Read the key rows."""
        with Session(self._engine) as session:
            rows = [repository.find_active_key(session, digest) for digest in digests]
        return [
            None if row is None or row.id is None else Caller(row.id, row.tenant_id, Role(row.role))
            for row in rows
        ]


async def _caller_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """The caller named by the bearer key; 401 when missing or unknown (no thread hop on a cached key)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    cache: KeyCache = request.app.state.key_cache
    known, caller = cache.cached(credentials.credentials)
    if not known:
        caller = await cache.resolve(credentials.credentials)
    if caller is None:
        raise Unauthorized("The API key is unknown or revoked.")
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
