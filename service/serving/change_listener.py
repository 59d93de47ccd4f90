"""The change listener: LISTEN for PostgreSQL's change notifications and pass them to the kept reads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from select import POLLIN, poll
from typing import Any, Protocol

import psycopg
from psycopg import sql

from service.serving.read_cache import PROBE

logger = logging.getLogger("tailorwise.serving")

# How often the listener checks that its own probe comes back, and how long it waits to reconnect.
LISTEN_PING_SECONDS = 5.0
LISTEN_RETRY_SECONDS = 1.0
LISTENER_NAME = "tailorwise-serving-listener"
Connect = Callable[[str], Awaitable[psycopg.AsyncConnection[tuple[Any, ...]]]]


class Hearer(Protocol):
    """What keeps state in step with the notifications: the kept reads, the key cache."""

    @property
    def live(self) -> bool:
        """Whether notifications are known to arrive."""

    def notified(self, payload: str) -> None:
        """Drop what a notification says changed."""

    def reset(self, live: bool) -> None:
        """Drop everything; say whether notifications now arrive."""


class Hearers:
    """Several hearers as one: each hears every notification."""

    def __init__(self, hearers: list[Hearer]) -> None:
        self._hearers = hearers

    def add(self, hearer: Hearer) -> None:
        """One more hearer."""
        self._hearers.append(hearer)

    @property
    def live(self) -> bool:
        """Whether notifications arrive (all hearers are told together)."""
        return any(h.live for h in self._hearers)

    def notified(self, payload: str) -> None:
        """Pass a notification to each."""
        for hearer in self._hearers:
            hearer.notified(payload)

    def reset(self, live: bool) -> None:
        """Reset each."""
        for hearer in self._hearers:
            hearer.reset(live)


class ChangeListener:
    """One task per worker that keeps `kept` in step with the notifications, checking delivery all along."""

    def __init__(self, connect: Connect, kept: Hearer) -> None:
        self._connect = connect
        self._kept = kept
        self._task: asyncio.Task[None] | None = None
        self._unheard = poll()

    def start(self) -> None:
        """Start listening on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen(self._kept))

    def pending(self) -> bool:
        """True when a notification is on the socket but not yet handled."""
        return bool(self._unheard.poll(0))

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self, kept: Hearer) -> None:
        """Tell `kept` of every change notification, checking delivery all along; after a loss, retry.

        While disconnected nothing is kept (every request reads), so a notification missed then
        cannot leave a stale read behind.
        """
        while True:
            try:
                async with await self._connect(LISTENER_NAME) as connection:
                    channel = await self._listen_to_channel(connection)
                    self._unheard.register(connection.fileno(), POLLIN)
                    while True:
                        await self._hear_for_a_while(connection, channel, kept)
            except Exception as error:  # whatever ends the listening, nothing is kept without it
                if kept.live:
                    logger.warning("lost change notifications (%s): every request reads until back", error)
            finally:
                kept.reset(live=False)
                self._unheard = poll()
            await asyncio.sleep(LISTEN_RETRY_SECONDS)

    @staticmethod
    async def _listen_to_channel(connection: psycopg.AsyncConnection[tuple[Any, ...]]) -> str:
        """LISTEN on the channel this schema's triggers notify (each schema has its own); its name."""
        found = await (await connection.execute("SELECT tailorwise_channel()")).fetchone()
        assert found is not None
        channel = str(found[0])
        await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        return channel

    async def _hear_for_a_while(
        self, connection: psycopg.AsyncConnection[tuple[Any, ...]], channel: str, kept: Hearer
    ) -> None:
        """Pass on notifications for LISTEN_PING_SECONDS, checking that a probe sent first comes back.

        The probe proves delivery end to end, and reads are kept only once the first one is back: a
        connection that died silently, or a pooler in transaction mode that lets LISTEN succeed but
        never delivers, fails the check instead of leaving kept reads that nothing drops.
        """
        probe = f"{PROBE} {secrets.token_hex(8)}"
        async with asyncio.timeout(LISTEN_PING_SECONDS):
            await connection.execute("SELECT pg_notify(%s, %s)", (channel, probe))
        heard = False
        async for notice in connection.notifies(timeout=LISTEN_PING_SECONDS):
            if notice.payload == probe:
                heard = True
                if not kept.live:
                    kept.reset(live=True)
            kept.notified(notice.payload)
        if not heard:
            raise TimeoutError(f"the probe sent on {channel} did not come back")
