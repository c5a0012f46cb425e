"""Group commit for draws: the rows of concurrent requests reach PostgreSQL in one INSERT
and one commit, so the WAL is flushed once per batch instead of once per draw.

Each request still waits for its own row to be committed before it answers (invariant 4);
under load a batch simply fills while the previous one is being written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from engagement.kit.batch import MicroBatcher
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
        self._batcher: MicroBatcher[DrawRow, bool] = MicroBatcher(
            self._insert, max_size=MAX_BATCH, max_in_flight=MAX_IN_FLIGHT)

    async def write(self, row: DrawRow) -> bool:
        """True once the row is committed; False when PostgreSQL refused it (the win's
        sequence number, or a draw already made under its Idempotency-Key)."""
        return await self._batcher.submit(row)

    async def _insert(self, rows: list[DrawRow]) -> list[bool]:
        inserted = await queries.insert_draws(self.pool, [row.values() for row in rows])
        return [row.id in inserted for row in rows]


def writer_for(services: Services) -> DrawWriter:
    """One writer per process and pool, so concurrent requests share its batches."""
    return services.helper(DrawWriter, lambda: DrawWriter(services.pool))
