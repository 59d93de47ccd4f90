"""Dashboard sign-in sessions, stored through tenancy so any server process finds them, named by a cookie."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session

from service.auth import Caller
from service.tenancy import service as tenancy

COOKIE = "tw_dashboard"
SIGN_IN_COOKIE = "tw_dashboard_sign_in"
PATH = "/dashboard"
TTL_SECONDS = 8 * 3600


@dataclass(frozen=True)
class DashboardSession:
    """A signed-in marketer or admin: the key's id, tenant and role, and the session's CSRF token."""

    caller: Caller
    csrf: str


def open_session(session: Session, caller: Caller, ttl_seconds: float = TTL_SECONDS) -> str:
    """A new session for a caller; its id, the cookie's value."""
    session_id, _ = tenancy.open_session(session, caller.key_id, caller.tenant_id, ttl_seconds)
    return session_id


def find(session: Session, session_id: str | None) -> DashboardSession | None:
    """The live session with this id (unexpired, its key not revoked), or None."""
    if not session_id:
        return None
    found = tenancy.find_session(session, session_id)
    if found is None:
        return None
    return DashboardSession(Caller(found.key_id, found.tenant_id, found.role), found.csrf)


def close(session: Session, session_id: str | None) -> None:
    """End a session."""
    if session_id:
        tenancy.close_session(session, session_id)


def same_token(sent: str | None, expected: str) -> bool:
    """Whether a form's CSRF token is the expected one (constant time)."""
    return bool(sent) and secrets.compare_digest(str(sent).encode(), expected.encode())
