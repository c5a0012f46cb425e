"""Draws of chosen moments for the partition tests, written as the draw writer writes them
(games.draw.queries.insert_draws), and where a plan reads them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from engagement.kit.ids import new_id
from engagement.kit.state import Services
from games.draw import queries
from tests.factories import Factory, MemberHandle


@dataclass
class Game:
    campaign_id: str
    merchant_id: str
    prize_id: str
    member: MemberHandle


async def game(factory: Factory, services: Services, *, status: str = "active",
               published_at: datetime | None = None) -> Game:
    """A published campaign with a points prize of large stock, and one member."""
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [
        {"name": "5积分", "kind": "points", "points": 5, "quantity": 1000, "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    await services.pool.execute(
        "UPDATE campaigns SET status = $2, published_at = coalesce($3, published_at) "
        "WHERE id = $1", campaign["id"], status, published_at)
    prize_id = await services.pool.fetchval(
        "SELECT id FROM campaign_prizes WHERE campaign_id = $1 AND kind = 'points'",
        campaign["id"])
    return Game(campaign["id"], shop.id, prize_id, await factory.member(shop))


async def draws(services: Services, g: Game, at: datetime, *, n: int = 1,
                wins: int = 0, settled: bool = True, key: str | None = None) -> list[str]:
    """``n`` draws at ``at`` (the first ``wins`` of them wins, numbered after the prize's
    wins so far, settled or not); ``key`` is the first one's Idempotency-Key."""
    taken = await services.pool.fetchval(
        "SELECT coalesce(max(win_seq), 0) FROM draw_win_seqs WHERE prize_id = $1", g.prize_id)
    rows = []
    for i in range(n):
        win = i < wins
        outcome = "win" if win else "lose"
        rows.append((new_id("drw"), g.merchant_id, g.campaign_id, g.member.id,
                     g.prize_id if win else None, outcome, taken + i + 1 if win else None,
                     at.date(), 0, key if i == 0 else None, None,
                     json.dumps({"outcome": outcome}), at))
    inserted = await queries.insert_draws(services.pool, rows)
    assert len(inserted) == n
    if settled:
        await services.pool.execute(
            "UPDATE draws SET settled_at = created_at WHERE id = ANY($1) AND outcome = 'win'",
            list(inserted))
    return [r[0] for r in rows]


_SCAN = re.compile(r" on (draws_p\d{6}|draws_default)(?: |$)")


class Explaining:
    """A connection that has PostgreSQL explain (and run) each statement before running it:
    ``scanned`` then names the partitions each statement read."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.plans: list[list[str]] = []

    async def _explain(self, sql: str, args: tuple[Any, ...]) -> None:
        rows = await self.conn.fetch(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, *args)
        self.plans.append([r[0] for r in rows])

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        await self._explain(sql, args)
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        await self._explain(sql, args)
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        await self._explain(sql, args)
        return await self.conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        await self._explain(sql, args)
        return await self.conn.execute(sql, *args)

    def scanned(self) -> set[str]:
        """The partitions the last statement read (those its plan left out, or pruned when
        it ran, shown as "never executed", are not)."""
        return {m[1] for line in self.plans[-1] if "never executed" not in line
                for m in [_SCAN.search(line)] if m}
