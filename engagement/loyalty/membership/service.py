"""Paid membership (付费会员卡): a merchant's plans, members buying and renewing them, and
what a running membership is worth at the till.

A member has at most one membership (one row); each purchase adds its plan's days to it:
from now when none runs, from its current end when one does (a renewal). The plan last
bought gives the terms (discount, monthly coupon) from the moment of buying. Purchases of
one member are serialised by an advisory lock; one paid from the balance takes the price
through ``wallet.debit`` in the same transaction, so it commits or rolls back with it.

Replacing the plans (a PUT) archives the ones left out instead of deleting them: running
memberships keep the terms they were bought on, and a plan given again unchanged keeps its
id."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from engagement.coupons import service as coupons
from engagement.kit.errors import InvalidInput, NotFound
from engagement.kit.ids import new_id
from engagement.loyalty.membership import queries
from engagement.loyalty.membership.schemas import (
    MemberMembershipOut,
    MembershipOut,
    MembershipPlanIn,
    MembershipPlanOut,
    MembershipPlansIn,
    MembershipPlansOut,
    MembershipPurchaseIn,
    MembershipPurchaseOut,
)
from engagement.loyalty.wallet import service as wallet
from engagement.loyalty.webhooks import service as webhooks
from engagement.members import queries as member_queries

DEFAULT_TIME_ZONE = "Asia/Shanghai"


class UnknownPlan(InvalidInput):
    code, message = "unknown_membership_plan", "No current membership plan has this id."


def plan_out(row: asyncpg.Record) -> MembershipPlanOut:
    return MembershipPlanOut(id=row["id"], name=row["name"], price=row["price"],
                             days=row["days"], discount_percent=row["discount_percent"],
                             monthly_coupon_template_id=row["monthly_coupon_template_id"])


async def get_plans(conn: asyncpg.Connection | asyncpg.Pool,
                    merchant_id: str) -> MembershipPlansOut:
    return MembershipPlansOut(plans=[plan_out(r)
                                     for r in await queries.active_plans(conn, merchant_id)])


def _terms(plan: MembershipPlanIn | asyncpg.Record) -> tuple[object, ...]:
    if isinstance(plan, MembershipPlanIn):
        return (plan.name, plan.price, plan.days, plan.discount_percent,
                plan.monthly_coupon_template_id)
    return (plan["name"], plan["price"], plan["days"], plan["discount_percent"],
            plan["monthly_coupon_template_id"])


async def set_plans(conn: asyncpg.Connection, merchant_id: str, data: MembershipPlansIn,
                    now: datetime) -> MembershipPlansOut:
    """Replace the plans (a PUT). Every coupon template is checked first: an unknown one is
    422 unknown_coupon_template on its field and nothing changes."""
    for index, plan in enumerate(data.plans):
        if plan.monthly_coupon_template_id is not None:
            await coupons.require_template(conn, merchant_id, plan.monthly_coupon_template_id,
                                           f"plans.{index}.monthly_coupon_template_id")
    await queries.lock_plans(conn, merchant_id)
    current = {_terms(r): r["id"] for r in await queries.active_plans(conn, merchant_id)}
    kept: list[str] = []
    for position, plan in enumerate(data.plans):
        plan_id = current.pop(_terms(plan), None)
        if plan_id is not None:
            kept.append(plan_id)
            await queries.place_plan(conn, plan_id, position)
            continue
        plan_id = new_id("mpl")
        kept.append(plan_id)
        await queries.insert_plan(
            conn, id=plan_id, merchant_id=merchant_id, name=plan.name, price=plan.price,
            days=plan.days, discount_percent=plan.discount_percent,
            monthly_coupon_template_id=plan.monthly_coupon_template_id, position=position)
    await queries.archive_plans(conn, merchant_id, kept, now)
    return await get_plans(conn, merchant_id)


def month_of(now: datetime, time_zone: str | None) -> str:
    """The calendar month (YYYY-MM) ``now`` falls in, where the merchant is."""
    return now.astimezone(ZoneInfo(time_zone or DEFAULT_TIME_ZONE)).strftime("%Y-%m")


async def give_monthly_coupon(conn: asyncpg.Connection, *, merchant_id: str, member_id: str,
                              plan_id: str, template_id: str, month: str,
                              now: datetime) -> bool:
    """This month's coupon, at most once per member and month (the grant's primary key):
    False when it was given already, or when the template has no stock or the member is at
    its limit (logged; the next run tries again). Leaves the caller's transaction usable."""
    try:
        async with conn.transaction():  # savepoint: a refused issue undoes its claim
            if not await queries.claim_grant(conn, merchant_id=merchant_id,
                                             member_id=member_id, month=month,
                                             plan_id=plan_id, now=now):
                return False
            coupon = await coupons.issue_single(conn, merchant_id, template_id, member_id,
                                                source="membership", now=now)
            await queries.set_grant_coupon(conn, member_id, month, coupon["id"])
            return True
    except (coupons.InsufficientInventory, coupons.CouponLimitReached, NotFound):
        return False


async def publish_ended(conn: asyncpg.Connection, merchant_id: str, row: asyncpg.Record,
                         now: datetime) -> None:
    await webhooks.publish(conn, merchant_id, "membership.ended", {
        "member_id": row["member_id"], "plan_id": row["plan_id"],
        "starts_at": row["starts_at"], "ends_at": row["ends_at"]}, now)


async def purchase(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                   data: MembershipPurchaseIn, now: datetime, *, time_zone: str | None,
                   staff_id: str | None = None) -> MembershipPurchaseOut:
    """Buy (or renew) a membership; with ``paid_with: balance`` the price comes off the
    balance (409 insufficient_balance: nothing changes). The first month's coupon comes
    with it when this month's was not given yet."""
    if await member_queries.member_by_id(conn, merchant_id, member_id) is None:
        raise NotFound("No such member.")
    plan = await queries.plan_by_id(conn, merchant_id, data.plan_id)
    if plan is None or plan["archived_at"] is not None:
        raise UnknownPlan(plan_id=data.plan_id, fields=[{"field": "plan_id"}])
    await queries.lock_membership(conn, member_id)
    current = await queries.membership(conn, merchant_id, member_id)
    renewal = current is not None and current["ends_at"] > now
    if current is not None and not renewal and current["ended_at"] is None:
        # Ran out, and the job has not said so yet: the old one ends before the new begins.
        if await queries.mark_ended(conn, member_id, now):
            await publish_ended(conn, merchant_id, current, now)
    period_start = current["ends_at"] if renewal and current is not None else now
    starts_at = current["starts_at"] if renewal and current is not None else now
    ends_at = period_start + timedelta(days=plan["days"])
    debit = None
    if data.paid_with == "balance":
        debit = await wallet.debit(conn, merchant_id, member_id, plan["price"],
                                   kind="membership", now=now, staff_id=staff_id)
    purchase_id = new_id("mbp")
    await queries.insert_purchase(
        conn, id=purchase_id, merchant_id=merchant_id, member_id=member_id,
        plan_id=plan["id"], price=plan["price"], paid_with=data.paid_with, renewal=renewal,
        starts_at=period_start, ends_at=ends_at,
        balance_entry_id=debit.id if debit else None, staff_id=staff_id, now=now)
    await queries.save_membership(conn, merchant_id=merchant_id, member_id=member_id,
                                  plan_id=plan["id"], starts_at=starts_at, ends_at=ends_at)
    if plan["monthly_coupon_template_id"] is not None:
        await give_monthly_coupon(conn, merchant_id=merchant_id, member_id=member_id,
                                  plan_id=plan["id"],
                                  template_id=plan["monthly_coupon_template_id"],
                                  month=month_of(now, time_zone), now=now)
    await webhooks.publish(conn, merchant_id, "membership.started", {
        "member_id": member_id, "plan_id": plan["id"], "starts_at": starts_at,
        "ends_at": ends_at, "renewal": renewal}, now)
    return MembershipPurchaseOut(id=purchase_id, plan_id=plan["id"], starts_at=starts_at,
                                 ends_at=ends_at, renewal=renewal, paid_with=data.paid_with,
                                 price=plan["price"],
                                 balance=debit.balance if debit else None)


async def member_membership(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                            member_id: str, now: datetime) -> MembershipOut | None:
    row = await queries.membership(conn, merchant_id, member_id)
    if row is None:
        return None
    return MembershipOut(plan_id=row["plan_id"], name=row["name"],
                         discount_percent=row["discount_percent"],
                         monthly_coupon_template_id=row["monthly_coupon_template_id"],
                         starts_at=row["starts_at"], ends_at=row["ends_at"],
                         active=row["starts_at"] <= now < row["ends_at"])


async def get_member_membership(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                                member_id: str, now: datetime) -> MemberMembershipOut:
    if await member_queries.member_by_id(conn, merchant_id, member_id) is None:
        raise NotFound("No such member.")
    return MemberMembershipOut(
        membership=await member_membership(conn, merchant_id, member_id, now))


async def discount_percent(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                           now: datetime) -> int:
    """The member discount (percent of the subtotal) a running membership gives now; 0
    without one. The orders core calls it through its MemberDiscounts port."""
    return await queries.running_discount(conn, merchant_id, member_id, now)

