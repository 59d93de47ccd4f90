"""API keys on requests: who is calling, for which tenant, in which role."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

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
    """Resolved keys kept for a few seconds, so a request costs no extra database read."""

    def __init__(self, engine: Engine, ttl_seconds: float) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Caller | None]] = {}
        self._lock = Lock()

    def resolve(self, key: str) -> Caller | None:
        """The caller for a key, or None for an unknown or revoked key."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        caller = self._load(digest)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (now + self._ttl, caller)
        return caller

    def _load(self, digest: str) -> Caller | None:
        """Read the key row."""
        with Session(self._engine) as session:
            row = repository.find_active_key(session, digest)
            if row is None or row.id is None:
                return None
            return Caller(key_id=row.id, tenant_id=row.tenant_id, role=Role(row.role))


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The caller named by the bearer key; 401 when missing or unknown."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
    caller: Caller | None = request.app.state.key_cache.resolve(credentials.credentials)
    if caller is None:
        raise Unauthorized("The API key is unknown or revoked.")
    return caller


def require(*roles: Role) -> Callable[[Caller], Caller]:
    """A dependency that admits only the given roles (admin always)."""
    allowed = {*roles, Role.admin}

    def _check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"Role {caller.role.value!r} may not do this; needs one of: {names}.")
        return caller

    return _check
