"""Jobs of paid membership (registered by ``workers``): the monthly coupon and the end of
a membership that ran out. Both are safe to run twice, and twice at once: the grant's
primary key gives a month's coupon once, and a membership's end is marked by one UPDATE."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import asyncpg

from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.loyalty.membership import queries, service

log = logging.getLogger(__name__)
END_BATCH = 500


async def give_monthly_coupons(pool: asyncpg.Pool, now: datetime) -> int:
    """This calendar month's coupon (the merchant's month) to every running paid member
    whose plan has one and who has not had it: one transaction per merchant."""
    given = 0
    for merchant in await queries.merchants_owing_coupons(pool, now):
        month = service.month_of(now, merchant["time_zone"])
        async with transaction(pool) as conn:
            for owed in await queries.members_owed_coupon(conn, merchant["id"], month, now):
                if await service.give_monthly_coupon(
                        conn, merchant_id=merchant["id"], member_id=owed["member_id"],
                        plan_id=owed["plan_id"], template_id=owed["monthly_coupon_template_id"],
                        month=month, now=now):
                    given += 1
    return given


async def end_memberships(pool: asyncpg.Pool, now: datetime) -> int:
    """membership.ended, once, for each membership that ran out."""
    ended = 0
    while True:
        async with transaction(pool) as conn:
            rows = await queries.end_due(conn, now, END_BATCH)
            for row in rows:
                await service.publish_ended(conn, row["merchant_id"], row, now)
        ended += len(rows)
        if len(rows) < END_BATCH:
            return ended


async def monthly_coupons(ctx: dict[str, Any]) -> int:
    svc: Services = ctx["services"]
    return await give_monthly_coupons(svc.pool, svc.clock.now())


async def end_due(ctx: dict[str, Any]) -> int:
    svc: Services = ctx["services"]
    return await end_memberships(svc.pool, svc.clock.now())
