"""Settlement: every winning draw gets exactly one coupon or one points credit (invariant 3).

Batches of unsettled wins are locked with SKIP LOCKED, so any number of workers can share
the backlog; the unique draw_id on coupons and the unique ref on points entries make a
re-run (arq delivers at least once) a no-op."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.coupons import service as coupons
from engagement.coupons.service import DrawCoupon
from engagement.points.service import Entry, post_entries
from games.draw import queries


async def settle_batch(conn: asyncpg.Connection, campaign_id: str, now: datetime,
                       limit: int) -> list[datetime]:
    """Settle up to ``limit`` wins; returns when each settled win was drawn (empty when none
    was left), for the settlement lag the caller observes once this has committed."""
    rows = await queries.lock_unsettled_wins(conn, campaign_id, limit)
    if not rows:
        return []
    owed = [DrawCoupon(draw_id=r["id"], merchant_id=r["merchant_id"], member_id=r["member_id"],
                       template_id=r["coupon_template_id"], campaign_id=r["campaign_id"],
                       prize_id=r["prize_id"], valid_days=r["valid_days"],
                       from_reservation=r["quantity"] is not None)
            for r in rows if r["kind"] == "coupon"]
    await coupons.issue_for_draws(conn, owed, now)
    await post_entries(conn, [Entry(r["merchant_id"], r["member_id"], r["points"], "draw_prize",
                                    f"draw:{r['id']}")
                              for r in rows if r["kind"] == "points"], now)
    per_prize: dict[str, int] = {}
    for r in rows:
        per_prize[r["prize_id"]] = per_prize.get(r["prize_id"], 0) + 1
    await queries.add_settled(conn, per_prize)
    await queries.mark_settled(conn, [(r["id"], r["created_at"]) for r in rows], now)
    return [r["created_at"] for r in rows]


async def release_reservations(conn: asyncpg.Connection, campaign_id: str) -> int:
    """After the end: give back to the templates what was reserved but not won. Wins still
    unsettled keep their share until settlement turns it into issued coupons."""
    released = 0
    wins = await queries.win_counts(conn, campaign_id)
    for prize in await queries.prizes(conn, campaign_id):
        if prize["kind"] != "coupon" or prize["released"] or prize["quantity"] is None:
            continue
        still_owed = wins.get(prize["id"], 0) - prize["settled"]
        give_back = prize["reserved"] - still_owed
        if give_back > 0:
            await coupons.release(conn, prize["coupon_template_id"], give_back)
            await queries.set_reserved(conn, prize["id"], prize["reserved"] - give_back)
            released += give_back
        await queries.mark_released(conn, prize["id"])
    return released
