"""Dashboard sign-in sessions: kept in this process's memory, named by an unguessable cookie."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from threading import Lock

from service.auth import Caller

COOKIE = "tw_dashboard"
SIGN_IN_COOKIE = "tw_dashboard_sign_in"
PATH = "/dashboard"
TTL_SECONDS = 8 * 3600


@dataclass(frozen=True)
class DashboardSession:
    """A signed-in marketer or admin: the key's id, tenant and role, and the session's CSRF token."""

    caller: Caller
    csrf: str
    expires_at: float


class SessionStore:
    """Sessions by id; an expired session is gone on its next look-up (the key itself is never kept)."""

    def __init__(self, ttl_seconds: float = TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._sessions: dict[str, DashboardSession] = {}
        self._lock = Lock()

    def open(self, caller: Caller) -> tuple[str, DashboardSession]:
        """A new session for a caller: its id (the cookie's value) and the session."""
        session_id = secrets.token_urlsafe(32)
        opened = DashboardSession(caller, secrets.token_urlsafe(32), time.monotonic() + self._ttl)
        with self._lock:
            self._drop_expired()
            self._sessions[session_id] = opened
        return session_id, opened

    def get(self, session_id: str | None) -> DashboardSession | None:
        """The live session with this id, or None."""
        if not session_id:
            return None
        with self._lock:
            found = self._sessions.get(session_id)
            if found is not None and found.expires_at <= time.monotonic():
                del self._sessions[session_id]
                return None
            return found

    def close(self, session_id: str | None) -> None:
        """End a session."""
        with self._lock:
            self._sessions.pop(session_id or "", None)

    @property
    def ttl_seconds(self) -> int:
        """How long a session lives, in seconds."""
        return int(self._ttl)

    def _drop_expired(self) -> None:
        """Forget expired sessions (called under the lock)."""
        now = time.monotonic()
        for session_id in [s for s, found in self._sessions.items() if found.expires_at <= now]:
            del self._sessions[session_id]


def same_token(sent: str | None, expected: str) -> bool:
    """Whether a form's CSRF token is the expected one (constant time)."""
    return bool(sent) and secrets.compare_digest(str(sent).encode(), expected.encode())
