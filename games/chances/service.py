"""Earned chances (额外抽奖机会): extra draws, beyond a campaign's limits, that a campaign
grants for each order, each check-in and each friend who joins through the member's share
link.

A grant is a row of draw_chances, written in the transaction of the event that earned it
(the listeners below) and keyed by that event, so a repeated event grants once. The draw
script spends a chance only when the member's free draws are used up, against the earned
count PostgreSQL holds and a used counter in Redis (games/draw/lua/draw.lua), so twenty
draws at once spend one chance once. A check-in also brings the check-in program's extra
draws for its streak day (hooks.CheckedIn.draws) to each campaign that grants check-in
chances. Chances do not expire while the campaign runs; an order refunded later keeps the
chances it earned."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import asyncpg

from engagement.kit import hooks
from games.chances import queries


async def on_order_paid(conn: asyncpg.Connection, order: hooks.OrderPaid) -> None:
    await queries.grant(conn, merchant_id=order.merchant_id, member_id=order.member_id,
                        source="order", ref=f"order:{order.order_id}", extra=0,
                        now=order.created_at)


async def on_checked_in(conn: asyncpg.Connection, check_in: hooks.CheckedIn) -> None:
    await queries.grant(conn, merchant_id=check_in.merchant_id, member_id=check_in.member_id,
                        source="check_in", ref=f"check_in:{check_in.check_in_id}",
                        extra=check_in.draws, now=check_in.created_at)


async def on_friend_joined(conn: asyncpg.Connection, joined: hooks.FriendJoined) -> None:
    await queries.grant(conn, merchant_id=joined.merchant_id, member_id=joined.referrer_id,
                        source="invite", ref=f"invite:{joined.member_id}", extra=0,
                        now=joined.created_at)


@dataclass(frozen=True)
class Left:
    """The chances a member has left in a campaign: (source, count) runs, oldest first,
    in the order they will be spent."""

    runs: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(n for _, n in self.runs)

    @property
    def by_source(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for source, n in self.runs:
            counts[source] += n
        return dict(counts)


async def left(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
               member_id: str) -> Left:
    """Chances are spent oldest first, so the ones left are the newest grants."""
    rows = await queries.grants(conn, campaign_id, member_id)
    _, used = await queries.balance(conn, campaign_id, member_id)
    runs: list[tuple[str, int]] = []
    for row in rows:
        spent = min(used, row["draws"])
        used -= spent
        n = row["draws"] - spent
        if not n:
            continue
        if runs and runs[-1][0] == row["source"]:
            runs[-1] = (row["source"], runs[-1][1] + n)
        else:
            runs.append((row["source"], n))
    return Left(tuple(runs))
