"""Coalescing concurrent lookups: requests that arrive together share one batched read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchLoader(Generic[K, V]):
    """Loads keys in batches: keys asked for while a batch is in flight go together in the next one.

    At most `concurrency` batches run at once, each of at most `max_batch` keys. Under light load a
    key is fetched alone, at once; under heavy load many requests share one round trip. A key asked
    for twice while pending is fetched once. `fetch` answers one value per key, in the keys' order;
    a failed fetch fails every request of its batch.
    """

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Sequence[V]]],
        concurrency: int,
        max_batch: int = 256,
    ) -> None:
        self._fetch = fetch
        self._concurrency = concurrency
        self._max_batch = max_batch
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._draining = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def load(self, key: K) -> V:
        """The value of one key, fetched with whatever other keys are waiting."""
        future = self._pending.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._pending[key] = loop.create_future()
            if self._draining < self._concurrency:
                self._draining += 1
                task = loop.create_task(self._drain())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        # A cancelled request must not cancel the read that other requests wait for.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        """Fetch waiting keys batch by batch until none are left."""
        try:
            while self._pending:
                keys = list(self._pending)[: self._max_batch]
                futures = [self._pending.pop(key) for key in keys]
                try:
                    values = await self._fetch(keys)
                    if len(values) != len(keys):
                        raise RuntimeError(f"a batch of {len(keys)} keys got {len(values)} values")
                except Exception as error:
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for future, value in zip(futures, values, strict=True):
                    if not future.done():
                        future.set_result(value)
        finally:
            # No await between finding nothing pending and this, so a key added later starts a drainer
            # (a task's done callback would run too late: a load in between would wait forever).
            self._draining -= 1
