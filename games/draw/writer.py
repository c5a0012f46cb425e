"""Group commit for draws: the rows of concurrent requests reach PostgreSQL in one INSERT
and one commit, so the WAL is flushed once per batch instead of once per draw.

Each request still waits for its own row to be committed before it answers (invariant 4);
under load a batch simply fills while the previous one is being written."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from engagement.kit.state import Services
from games.draw import queries

MAX_BATCH = 500  # rows per statement: bounded so one INSERT stays short
MAX_IN_FLIGHT = 2  # concurrent batches: one writing while the next one fills


@dataclass(frozen=True)
class DrawRow:
    id: str
    merchant_id: str
    campaign_id: str
    member_id: str
    prize_id: str | None
    win_seq: int | None
    local_day: date
    points_spent: int
    idempotency_key: str | None
    request_hash: str
    response: str
    created_at: datetime

    def values(self) -> tuple[object, ...]:
        outcome = "win" if self.win_seq is not None else "lose"
        return (self.id, self.merchant_id, self.campaign_id, self.member_id, self.prize_id,
                outcome, self.win_seq, self.local_day, self.points_spent,
                self.idempotency_key, self.request_hash, self.response, self.created_at)


class DrawWriter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._pending: list[tuple[DrawRow, asyncio.Future[bool]]] = []
        self._in_flight = 0

    async def write(self, row: DrawRow) -> bool:
        """True once the row is committed; False when PostgreSQL refused it (the win's
        sequence number, or a draw already made under its Idempotency-Key)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._in_flight < MAX_IN_FLIGHT:
            self._in_flight += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    inserted = await queries.insert_draws(
                        self.pool, [row.values() for row, _ in batch])
                except BaseException as exc:  # every waiter of the batch learns of it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for row, future in batch:
                    if not future.done():
                        future.set_result(row.id in inserted)
        finally:
            self._in_flight -= 1


def writer_for(services: Services) -> DrawWriter:
    """One writer per process and pool, so concurrent requests share its batches."""
    writer: DrawWriter | None = services.local.get("games.draw.writer")
    if writer is None:
        writer = services.local["games.draw.writer"] = DrawWriter(services.pool)
    return writer
