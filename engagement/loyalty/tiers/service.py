"""Tiers (等级): thresholds on points earned or spend over a window, re-evaluated by a
daily job (upgrades and downgrades alike), with a monthly coupon as a tier's benefit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg

from engagement.coupons import service as coupons
from engagement.kit.ids import new_id
from engagement.loyalty.tiers import queries
from engagement.loyalty.tiers.schemas import TierOut, TiersIn, TiersOut

log = logging.getLogger(__name__)


def tiers_out(rows: list[asyncpg.Record]) -> TiersOut:
    return TiersOut(tiers=[TierOut(name=r["name"], min_points=r["min_points"],
                                   min_spend=r["min_spend"], window_days=r["window_days"],
                                   monthly_coupon_template_id=r["monthly_coupon_template_id"])
                           for r in rows])


async def set_tiers(conn: asyncpg.Connection, merchant_id: str, data: TiersIn) -> TiersOut:
    """Replace the merchant's tiers; members move at the next daily evaluation."""
    for index, tier in enumerate(data.tiers):
        if tier.monthly_coupon_template_id is not None:
            await coupons.require_template(conn, merchant_id, tier.monthly_coupon_template_id,
                                           f"tiers.{index}.monthly_coupon_template_id")
    await queries.replace_tiers(conn, merchant_id, [
        (rank, t.name, t.min_points, t.min_spend, t.window_days, t.monthly_coupon_template_id)
        for rank, t in enumerate(data.tiers)])
    return tiers_out(await queries.tiers_of(conn, merchant_id))


async def get_tiers(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> TiersOut:
    return tiers_out(await queries.tiers_of(conn, merchant_id))


async def evaluate(conn: asyncpg.Connection, merchant_id: str, time_zone: str,
                   now: datetime) -> tuple[int, int]:
    """Move members to the tier they qualify for today, then give this month's coupons.
    Returns (members moved, coupons given). Reruns on the same day move and give nothing."""
    moves = await queries.tier_moves(conn, merchant_id, now)
    if moves:
        await queries.apply_moves(conn, merchant_id, [
            (new_id("tch"), m["member_id"], m["from_tier"], m["to_tier"]) for m in moves], now)
    month = now.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m")
    given = 0
    for owed in await queries.members_owed_monthly_coupon(conn, merchant_id, month):
        try:
            async with conn.transaction():  # savepoint: a refusal is retried tomorrow
                if not await queries.claim_grant(conn, merchant_id, owed["member_id"], month,
                                                 owed["tier"], now):
                    continue
                coupon = await coupons.issue_single(
                    conn, merchant_id, owed["monthly_coupon_template_id"], owed["member_id"],
                    source="tier", now=now)
                await queries.set_grant_coupon(conn, owed["member_id"], month, coupon["id"])
                given += 1
        except (coupons.InsufficientInventory, coupons.CouponLimitReached) as exc:
            log.warning("tier coupon not given to %s: %s", owed["member_id"], exc.code)
    return len(moves), given


@dataclass(frozen=True)
class TierProgress:
    """Where a member stands on the merchant's ladder, for the member home.

    ``state``: ``next`` (``target`` is the tier above the member's own; ``gap`` more of
    ``unit`` reaches it, ``reached`` of ``threshold`` so far over ``window_days``),
    ``pending`` (the member already qualifies for ``target``; the daily evaluation moves
    them) or ``top`` (the member holds the highest tier, ``target``)."""

    state: Literal["next", "pending", "top"]
    target: str
    unit: Literal["points", "spend"] | None = None
    gap: int = 0
    reached: int = 0
    threshold: int = 0
    window_days: int = 0


async def progress(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, member_id: str,
                   current: str | None, now: datetime) -> TierProgress | None:
    """None when the merchant has no tiers. The numbers are those the daily evaluation
    uses (queries.tier_moves), counted now."""
    rows = await queries.standing_of_member(conn, merchant_id, member_id, now)
    if not rows:
        return None
    ranks = {r["name"]: i for i, r in enumerate(rows)}
    held = ranks.get(current, -1) if current is not None else -1

    def met(row: asyncpg.Record) -> bool:
        threshold = row["min_points"] if row["min_points"] is not None else row["min_spend"]
        return bool(row["reached"] >= threshold)

    qualifying = max((i for i, r in enumerate(rows) if met(r)), default=-1)
    if qualifying > held:
        return TierProgress("pending", rows[qualifying]["name"])
    if held == len(rows) - 1:
        return TierProgress("top", rows[held]["name"])
    target = rows[held + 1]
    by_points = target["min_points"] is not None
    threshold = int(target["min_points"] if by_points else target["min_spend"])
    reached = int(target["reached"])
    return TierProgress("next", target["name"], "points" if by_points else "spend",
                        gap=threshold - reached, reached=reached, threshold=threshold,
                        window_days=target["window_days"])
