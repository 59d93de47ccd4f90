"""BatchLoader: concurrent loads share batches, at most `concurrency` in flight, failures reach all."""

from __future__ import annotations

import asyncio

import pytest

from service.batching import BatchLoader


class Recorder:
    """A fetch that records its batches and answers each key doubled, after a pause."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail_on = fail_on

    async def fetch(self, keys: list[int]) -> list[int]:
        self.batches.append(keys)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        if self.fail_on in keys:
            raise RuntimeError("database gone")
        return [key * 2 for key in keys]


def test_a_lone_load_is_fetched_alone() -> None:
    recorder = Recorder()
    loader = BatchLoader(recorder.fetch, concurrency=2)
    assert asyncio.run(loader.load(21)) == 42
    assert recorder.batches == [[21]]


def test_loads_arriving_together_share_batches_within_the_concurrency() -> None:
    recorder = Recorder()

    async def main() -> list[int]:
        loader = BatchLoader(recorder.fetch, concurrency=2, max_batch=10)
        return list(await asyncio.gather(*(loader.load(n) for n in range(50))))

    assert asyncio.run(main()) == [n * 2 for n in range(50)]
    assert recorder.most_in_flight <= 2
    assert all(len(batch) <= 10 for batch in recorder.batches)
    assert sorted(key for batch in recorder.batches for key in batch) == list(range(50))
    assert len(recorder.batches) == 5


def test_a_key_asked_twice_while_pending_is_fetched_once() -> None:
    recorder = Recorder()

    async def main() -> list[int]:
        loader = BatchLoader(recorder.fetch, concurrency=1)
        return list(await asyncio.gather(loader.load(1), loader.load(2), loader.load(2)))

    assert asyncio.run(main()) == [2, 4, 4]
    assert recorder.batches == [[1, 2]]


def test_a_failed_fetch_fails_its_batch_and_the_next_batch_still_runs() -> None:
    recorder = Recorder(fail_on=3)

    async def main() -> tuple[list[object], int]:
        loader = BatchLoader(recorder.fetch, concurrency=1)
        results = await asyncio.gather(*(loader.load(n) for n in (3, 4)), return_exceptions=True)
        return list(results), await loader.load(5)

    results, after = asyncio.run(main())
    assert all(isinstance(result, RuntimeError) for result in results)
    assert after == 10


def test_a_cancelled_request_does_not_cancel_the_read_others_wait_for() -> None:
    recorder = Recorder()

    async def main() -> int:
        loader = BatchLoader(recorder.fetch, concurrency=1)
        impatient = asyncio.ensure_future(loader.load(7))
        patient = asyncio.ensure_future(loader.load(7))
        await asyncio.sleep(0)
        impatient.cancel()
        return await patient

    assert asyncio.run(main()) == 14


def test_a_fetch_answering_the_wrong_number_of_values_fails_the_batch() -> None:
    async def short(keys: list[int]) -> list[int]:
        return []

    loader = BatchLoader(short, concurrency=1)
    with pytest.raises(RuntimeError, match="1 keys got 0 values"):
        asyncio.run(loader.load(1))


def test_a_load_arriving_as_the_last_drainer_finishes_still_gets_fetched() -> None:
    async def immediate(keys: list[int]) -> list[int]:
        return [key * 2 for key in keys]

    async def later(loader: BatchLoader[int, int]) -> int:
        await asyncio.sleep(0)  # runs after the drainer finished, before its task's done callbacks
        return await loader.load(2)

    async def main() -> list[int]:
        loader = BatchLoader(immediate, concurrency=1)
        return list(await asyncio.wait_for(asyncio.gather(loader.load(1), later(loader)), 5))

    assert asyncio.run(main()) == [2, 4]
