"""Waiting for the app's change listener: every notification committed so far has been passed on."""

from __future__ import annotations

import secrets
import time
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient


class Heard:
    """Records the payloads the app's change listener passes on (a hearer beside the kept reads)."""

    live = False

    def __init__(self) -> None:
        self.payloads: set[str] = set()

    def notified(self, payload: str) -> None:
        self.payloads.add(payload)

    def reset(self, live: bool) -> None:
        """Nothing kept here."""


def caught_up(client: TestClient, db: Any) -> None:
    """Wait until the app's listener has passed on every change notification committed so far.

    PostgreSQL delivers notifications in commit order, so once a probe sent now is heard, every change
    committed before it has reached the kept reads and answers: the documented freshness window has
    passed. Nothing to wait for where nothing is kept (SQLite, or kept reads turned off).
    """
    reads = client.app.state.model_cache.reads  # type: ignore[attr-defined]
    if reads.kept is None:
        return
    heard = getattr(client.app.state, "heard", None)
    if heard is None:
        heard = client.app.state.heard = Heard()
        reads.connections.tell(heard)
    probe = f"p {secrets.token_hex(8)}"
    with db.engine.begin() as connection:
        connection.execute(sa.text("SELECT pg_notify(tailorwise_channel(), :probe)"), {"probe": probe})
    deadline = time.monotonic() + 5
    while probe not in heard.payloads and reads.kept.live:
        assert time.monotonic() < deadline, "the change listener did not hear the probe"
        time.sleep(0.005)
