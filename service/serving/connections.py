"""Held-open PostgreSQL connections for serving reads, and the worker's one change listener."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from service.own_writes import own_writes_for
from service.serving.change_listener import ChangeListener, Hearer, Hearers


class ServingConnections:
    """Autocommit connections (no pool checkout ping, no transaction; psycopg prepares the statements).

    At most `size` statements run at once; a connection that fails is closed, the others are kept.
    The listener tells every hearer (kept reads, kept treatment answers, the key cache) of each
    change notification, and hears this app's own-write markers back (service/own_writes.py).
    """

    def __init__(self, engine: Engine, size: int, hearers: Sequence[Hearer] = ()) -> None:
        self._engine = engine
        self._idle: list[psycopg.AsyncConnection[tuple[Any, ...]]] = []
        self._slots = asyncio.Semaphore(size)
        self._own_writes = own_writes_for(engine) if hearers else None
        self._hearers = Hearers([*hearers, self._own_writes] if self._own_writes else [])
        self.listener = ChangeListener(self.connect, self._hearers) if hearers else None

    def tell(self, hearer: Hearer) -> None:
        """Also tell `hearer` of every notification (on PostgreSQL, where a listener runs)."""
        self._hearers.add(hearer)

    def start(self) -> None:
        """Start listening for change notifications (on the running loop)."""
        if self.listener is not None:
            self.listener.start()

    def pending(self) -> bool:
        """True when a notification or an own write's marker is not yet handled (or none listens)."""
        if self.listener is None or self._own_writes is None:
            return True
        return self.listener.pending() or self._own_writes.pending()

    async def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of one statement on an idle connection."""
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self.connect()
            try:
                cursor = await connection.execute(sql, params)
                rows = await cursor.fetchall()
            except BaseException:
                await connection.close()
                raise
            self._idle.append(connection)
            return rows

    async def close(self) -> None:
        """Stop listening and close the idle connections."""
        if self.listener is not None:
            await self.listener.stop()
        while self._idle:
            await self._idle.pop().close()

    async def connect(self, application_name: str | None = None) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        """A new autocommit connection to the engine's database, planning each statement once.

        Serving statements take arrays of requests (unnest), whose size a plan cannot know: PostgreSQL
        would then plan them anew on every execution (4.7 ms for treatment's read on a loaded host, 1 ms
        to execute); the generic plan, made once per connection, does the same index lookups.
        """
        arguments, options = self._engine.dialect.create_connect_args(self._engine.url)
        settings = f"{options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
        options = {**options, "options": settings}
        if application_name is not None:
            options = {**options, "application_name": application_name}
        return await psycopg.AsyncConnection.connect(*arguments, **options, autocommit=True)
