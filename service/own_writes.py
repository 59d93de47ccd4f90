"""Writes of this process, each pending until its change listener hears the marker committed with it.

Kept serving reads are dropped when a change notification is handled, a moment after the commit. A
caller that writes and asks again at once may be answered in that moment; when both requests reach
the same worker, this closes the gap. A write transaction on PostgreSQL commits a marker notification
`w <token>` after its changes (notifications of one transaction arrive together, in order), and until
the listener has handled it this process serves no kept read. A marker never heard back (the listener
lost its connection, which drops every kept read anyway) stops counting after MARKER_SECONDS.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

OWN_WRITE = "w"
MARKER_SECONDS = 5.0
_NOTIFY = sa.text("SELECT pg_notify(tailorwise_channel(), :payload)")
_WROTE = "tailorwise_wrote"


class OwnWrites:
    """The markers one app's listener has not heard back yet (a change-listener hearer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}
        self.live = False

    def expect(self, payload: str) -> None:
        """A marker committed from now on is pending until heard."""
        with self._lock:
            self._pending[payload] = time.monotonic()

    def pending(self) -> bool:
        """True while a marker of this process is on its way to the listener."""
        if not self._pending:
            return False
        cutoff = time.monotonic() - MARKER_SECONDS
        with self._lock:
            for payload in [p for p, at in self._pending.items() if at < cutoff]:
                del self._pending[payload]
            return bool(self._pending)

    def notified(self, payload: str) -> None:
        """A marker heard back: everything its transaction changed has been handled before it."""
        if payload.startswith(OWN_WRITE + " "):
            with self._lock:
                self._pending.pop(payload, None)

    def reset(self, live: bool) -> None:
        """The listener (re)connected or was lost: no marker is on its way any more."""
        with self._lock:
            self._pending.clear()
        self.live = live


_by_engine: WeakKeyDictionary[Engine, WeakSet[OwnWrites]] = WeakKeyDictionary()
_prefix = secrets.token_hex(6)
_count = itertools.count()


def own_writes_for(engine: Engine) -> OwnWrites:
    """New own-write markers for one app's listener; the engine notes from now on which transactions write."""
    owners = _by_engine.get(engine)
    if owners is None:
        owners = _by_engine[engine] = WeakSet()
        sa.event.listen(engine, "begin", _begin)
        sa.event.listen(engine, "before_cursor_execute", _note_write)
    own = OwnWrites()
    owners.add(own)
    return own


def _begin(conn: Any) -> None:
    """A transaction starts with nothing written."""
    conn.info.pop(_WROTE, None)


def _note_write(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    """Note on the connection that its transaction ran something other than a plain SELECT."""
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


def note_write(session: Session) -> None:
    """Note a write made past SQLAlchemy (COPY on the driver's connection) in the session's transaction."""
    session.connection().info[_WROTE] = True


Marked = tuple[list[OwnWrites], str]


def mark_before_commit(session: Session, engine: Engine) -> Marked | None:
    """Commit a marker with a transaction that wrote, where a listener of this process awaits it."""
    owners = [own for own in _by_engine.get(engine, ()) if own.live]
    if not owners or not session.in_transaction():
        return None
    session.flush()
    if not session.connection().info.pop(_WROTE, False):
        return None
    payload = f"{OWN_WRITE} {_prefix}-{next(_count)}"
    for own in owners:
        own.expect(payload)
    session.execute(_NOTIFY, {"payload": payload})
    return owners, payload


def forget(marked: Marked | None) -> None:
    """A marked transaction that did not commit: its marker will never come back."""
    if marked is not None:
        owners, payload = marked
        for own in owners:
            own.notified(payload)
