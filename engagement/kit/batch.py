"""Micro-batching for round trips that cost more than the work they carry: the items of
concurrent callers go out in one flush, and each caller gets back its own result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """A batch is whatever was submitted while the previous flushes were out: no timer, so
    an idle caller waits for nothing but its own round trip, and under load the batches
    grow by themselves (up to `max_size`, with at most `max_in_flight` flushes out).

    `flush` returns one result per item, in order; a result that is an Exception is raised
    to its own caller only. An exception raised by `flush` reaches every caller of that
    batch. A caller cancelled while waiting stops waiting, but its item stays in its batch:
    what it asked for still happens, and nobody is told."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[Sequence[R | Exception]]], *,
                 max_size: int, max_in_flight: int) -> None:
        self._flush = flush
        self.max_size = max_size
        self.max_in_flight = max_in_flight
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if self._in_flight < self.max_in_flight:
            self._in_flight += 1
            task = loop.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:self.max_size]
                self._pending = self._pending[self.max_size:]
                try:
                    results = await self._flush([item for item, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"flush answered {len(results)} results for "
                                           f"{len(batch)} items")
                except BaseException as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its caller was cancelled
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._in_flight -= 1
