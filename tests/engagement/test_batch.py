from __future__ import annotations

import asyncio

import pytest

from engagement.kit.batch import MicroBatcher


class Recorder:
    """A flush that records its batches and can be held open, to see what is in flight."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.out = 0
        self.most_out = 0

    async def __call__(self, items: list[int]) -> list[int | Exception]:
        self.batches.append(items)
        self.out += 1
        self.most_out = max(self.most_out, self.out)
        try:
            await self.gate.wait()
        finally:
            self.out -= 1
        return [ValueError(i) if i < 0 else i * 10 for i in items]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_concurrent_submits_share_one_flush() -> None:
    flush = Recorder()
    batcher: MicroBatcher[int, int] = MicroBatcher(flush, max_size=100, max_in_flight=1)
    assert await asyncio.gather(*[batcher.submit(i) for i in range(10)]) == [
        i * 10 for i in range(10)]
    assert flush.batches == [list(range(10))]
    assert await batcher.submit(7) == 70  # and the next one flushes on its own
    assert flush.batches[1:] == [[7]]


async def test_each_caller_gets_its_own_result_or_exception() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(Recorder(), max_size=100, max_in_flight=1)
    results = await asyncio.gather(*[batcher.submit(i) for i in (1, -2, 3, -4)],
                                   return_exceptions=True)
    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError) and results[1].args == (-2,)
    assert isinstance(results[3], ValueError) and results[3].args == (-4,)


async def test_a_failed_flush_reaches_every_waiter_of_its_batch_only() -> None:
    calls: list[list[int]] = []

    async def flush(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("down")
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(flush, max_size=3, max_in_flight=1)
    results = await asyncio.gather(*[batcher.submit(i) for i in range(5)],
                                   return_exceptions=True)
    assert calls == [[0, 1, 2], [3, 4]]
    failed = results[:3]
    assert all(isinstance(r, ConnectionError) for r in failed)
    assert results[3:] == [3, 4]


async def test_a_flush_answering_the_wrong_number_of_results_fails_its_batch() -> None:
    async def flush(items: list[int]) -> list[int]:
        return items[1:]

    batcher: MicroBatcher[int, int] = MicroBatcher(flush, max_size=10, max_in_flight=1)
    results = await asyncio.gather(batcher.submit(1), batcher.submit(2),
                                   return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_batches_stay_within_their_size() -> None:
    flush = Recorder()
    batcher: MicroBatcher[int, int] = MicroBatcher(flush, max_size=3, max_in_flight=1)
    await asyncio.gather(*[batcher.submit(i) for i in range(10)])
    assert flush.batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


@pytest.mark.parametrize("max_in_flight", [1, 2])
async def test_no_more_flushes_are_out_than_allowed(max_in_flight: int) -> None:
    flush = Recorder()
    flush.gate.clear()
    batcher: MicroBatcher[int, int] = MicroBatcher(flush, max_size=2,
                                                   max_in_flight=max_in_flight)
    waiters = [asyncio.ensure_future(batcher.submit(i)) for i in range(3)]
    await _settle()
    more = [asyncio.ensure_future(batcher.submit(i)) for i in range(3, 8)]
    await _settle()
    # While the flushes are held, the later items wait for them, whatever their number.
    assert flush.out == max_in_flight
    assert sum(len(b) for b in flush.batches) < 8
    flush.gate.set()
    assert await asyncio.gather(*waiters, *more) == [i * 10 for i in range(8)]
    assert flush.most_out == max_in_flight
    assert all(len(b) <= 2 for b in flush.batches)
    assert sorted(i for b in flush.batches for i in b) == list(range(8))


async def test_a_cancelled_waiter_keeps_its_item_in_the_batch() -> None:
    flush = Recorder()
    flush.gate.clear()
    batcher: MicroBatcher[int, int] = MicroBatcher(flush, max_size=10, max_in_flight=1)
    first = asyncio.ensure_future(batcher.submit(0))
    await _settle()  # the first batch is out: the next two wait for it
    cancelled = asyncio.ensure_future(batcher.submit(1))
    kept = asyncio.ensure_future(batcher.submit(2))
    await _settle()
    cancelled.cancel()
    flush.gate.set()
    assert await first == 0 and await kept == 20
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert flush.batches == [[0], [1, 2]]
