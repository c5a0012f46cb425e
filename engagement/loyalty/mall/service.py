"""The points mall (积分商城): coupon templates priced in points, with their own stock.

A redemption is one transaction: count it against the reward's stock (a row lock and a
named CHECK, so never oversold), take the points through the ledger (a unique ref, so never
twice), issue the coupon. Any refusal rolls all three back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from engagement.coupons import queries as coupon_queries
from engagement.coupons import service as coupons
from engagement.kit.errors import Conflict, NotFound
from engagement.kit.http import request_hash
from engagement.kit.ids import new_id
from engagement.loyalty.mall import queries
from engagement.loyalty.mall.schemas import (
    RedeemedCoupon,
    RedemptionOut,
    RewardCreate,
    RewardOut,
    RewardPatch,
)
from engagement.points import queries as points_queries
from engagement.points.service import Entry, post_entries, respond_once


class RewardOutOfStock(Conflict):
    code, message = "reward_out_of_stock", "This reward has been fully redeemed."


class RedemptionConflict(Conflict):
    code, message = "redemption_conflict", "This Idempotency-Key was used long ago; use a new one."


def reward_out(row: asyncpg.Record) -> RewardOut:
    return RewardOut(**dict(row))


async def create_reward(conn: asyncpg.Connection, merchant_id: str, data: RewardCreate,
                        now: datetime) -> RewardOut:
    await coupons.require_template(conn, merchant_id, data.coupon_template_id,
                                   "coupon_template_id")
    reward_id = new_id("rwd")
    await queries.insert_reward(conn, id=reward_id, merchant_id=merchant_id,
                                template_id=data.coupon_template_id,
                                cost_points=data.cost_points, stock=data.stock, now=now)
    row = await queries.reward_by_id(conn, merchant_id, reward_id)
    assert row is not None
    return reward_out(row)


async def list_rewards(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       cursor: str | None, limit: int,
                       include_inactive: bool = False) -> list[RewardOut]:
    return [reward_out(r) for r in await queries.rewards_of_merchant(
        conn, merchant_id, cursor, limit, include_inactive)]


async def set_active(conn: asyncpg.Connection, merchant_id: str, reward_id: str,
                     data: RewardPatch) -> RewardOut:
    """Take a reward off the shelf or put it back: members neither see nor redeem one that
    is off; its stock and redemptions stay as they are."""
    row = await queries.set_active(conn, merchant_id, reward_id, data.active)
    if row is None:
        raise NotFound("No such reward.")
    return reward_out(row)


async def redeem(conn: asyncpg.Connection, merchant_id: str, member_id: str, reward_id: str,
                 now: datetime, *, key: str | None) -> RedemptionOut:
    """Rows are locked in one order (reward, then member, then template), so concurrent
    redemptions queue rather than deadlock."""
    try:
        async with conn.transaction():  # savepoint: the refusal is typed, not a 500
            reward = await queries.take_one(conn, merchant_id, reward_id)
    except asyncpg.CheckViolationError as exc:
        raise RewardOutOfStock(reward_id=reward_id) from exc
    if reward is None:
        raise NotFound("No such reward.")
    redemption_id = new_id("rdm")
    # With a key the ref is the key's: even a retry that got past the replay would be one debit.
    ref = f"mall:{member_id}:{key}" if key is not None else f"mall:{redemption_id}"
    if not await post_entries(conn, [Entry(merchant_id, member_id, -reward["cost_points"],
                                           "mall", ref)], now):
        # The key's stored response was purged (days later) but its debit stands: refuse
        # rather than issue a coupon that no points paid for.
        raise RedemptionConflict(key=key)
    coupon = await coupons.issue_single(conn, merchant_id, reward["coupon_template_id"],
                                        member_id, source="mall", now=now)
    await queries.insert_redemption(conn, id=redemption_id, merchant_id=merchant_id,
                                    reward_id=reward_id, member_id=member_id,
                                    coupon_id=coupon["id"],
                                    points_spent=reward["cost_points"], now=now)
    template = await coupon_queries.template_by_id(conn, merchant_id,
                                                   reward["coupon_template_id"])
    assert template is not None
    return RedemptionOut(
        id=redemption_id, reward_id=reward_id, points_spent=reward["cost_points"],
        balance=await points_queries.balance(conn, member_id), created_at=now,
        coupon=RedeemedCoupon(code=coupon["code"], template_id=template["id"],
                              name=template["name"], discount=template["discount"],
                              min_spend=template["min_spend"], issued_at=coupon["issued_at"],
                              expires_at=coupon["expires_at"]))


async def redeem_once(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                      reward_id: str, now: datetime, *, key: str | None) -> tuple[int, Any]:
    """A redemption made at most once per Idempotency-Key, answered (status, body). The API
    and the mall page's form both come here, so a key means the same in either: keys belong
    to the member who sent them, and the request is the API's path."""
    return await respond_once(
        conn, merchant_id, f"mall.redeem:{member_id}", key,
        request_hash(f"/api/v1/rewards/{reward_id}/redemptions", None), now,
        lambda: redeem(conn, merchant_id, member_id, reward_id, now, key=key))
