"""Binding a new member under the member whose share link brought them (上下级).

Invariant 7: a member is bound once, when joining, to an older member of the same merchant,
never to themselves (same member or same phone). The members_referral_forest trigger holds
the same line in PostgreSQL, so the graph stays a forest whatever calls race.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from engagement.coupons import service as coupons
from engagement.kit import hooks
from engagement.kit.errors import AppError, NotFound
from engagement.members.schemas import MemberCreate
from referrals import queries
from referrals.errors import (
    BindingNotHeld,
    NotNewMember,
    SelfReferral,
    UnknownShareCode,
)
from referrals.ledger import service as ledger
from referrals.phones import same_phone

log = logging.getLogger(__name__)

# The window of the "too many joins through one link from one address" rule.
JOIN_RATE_WINDOW = timedelta(hours=1)



@dataclass(frozen=True)
class Bound:
    referrer_id: str
    status: str  # active, or held for review
    coupon_code: str | None


def normalise_code(code: str) -> str:
    return code.strip().upper()


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


async def resolve_referrer(conn: asyncpg.Connection, merchant_id: str,
                           data: MemberCreate) -> str | None:
    """The ShareCodes port's ``referrer`` (members API, join page): before a member is
    created, the sharer a share code names (the new row is inserted bound to it). Raises
    UnknownShareCode, or SelfReferral when the joiner has the sharer's phone."""
    if not data.share_code:
        return None
    link = await queries.link_by_code(conn, normalise_code(data.share_code))
    if link is None or link["merchant_id"] != merchant_id:
        raise UnknownShareCode(share_code=data.share_code)
    sharer = await queries.member_brief(conn, link["member_id"])
    assert sharer is not None
    if same_phone(sharer["phone"], data.phone):
        raise SelfReferral()
    return str(sharer["id"])


async def bind_new_member(conn: asyncpg.Connection, *, merchant_id: str, member_id: str,
                          share_code: str, now: datetime, ip: str | None = None) -> Bound:
    """Bind a member created in this same transaction under the sharer of ``share_code`` (or
    confirm the binding its resolver made at insert), record how it came about, hold it for
    review when it looks like a farm, and give the member the link's coupon. Raises
    UnknownShareCode, SelfReferral or NotNewMember; the caller's transaction should then roll
    back (the API) or carry on unbound (a join page, see ``bind_on_join``)."""
    link = await queries.link_by_code(conn, normalise_code(share_code), for_update=True)
    if link is None or link["merchant_id"] != merchant_id:
        raise UnknownShareCode(share_code=share_code)
    member = await queries.member_for_binding(conn, merchant_id, member_id)
    if member is None:
        raise NotFound("No such member.")
    sharer = await queries.member_brief(conn, link["member_id"])
    assert sharer is not None
    if sharer["id"] == member["id"] or same_phone(sharer["phone"], member["phone"]):
        raise SelfReferral()
    if member["has_binding"] or member["has_orders"]:
        raise NotNewMember()
    if member["referrer_id"] is None:
        if (sharer["created_at"], sharer["id"]) >= (member["created_at"], member["id"]):
            raise NotNewMember()
        await queries.set_referrer(conn, member_id, sharer["id"])
    elif member["referrer_id"] != sharer["id"]:
        raise NotNewMember()
    program = await queries.program(conn, merchant_id)
    ip = _ip(ip)
    status, reason = "active", None
    cap = program["max_joins_per_ip_per_hour"] if program is not None else None
    if ip is not None and cap is not None \
            and await queries.recent_joins(conn, link["id"], ip, now - JOIN_RATE_WINDOW) >= cap:
        status, reason = "held", "joins_per_ip"
    coupon_code = None
    if program is not None and program["enabled"] and link["coupon_template_id"]:
        try:
            coupon = await coupons.issue_single(conn, merchant_id, link["coupon_template_id"],
                                                member_id, source="share", now=now)
            coupon_code = coupon["code"]
        except (coupons.InsufficientInventory, coupons.CouponLimitReached) as exc:
            # Joining still works when the welcome coupon has run out.
            log.info("no share coupon for %s: %s", member_id, exc.code)
    await queries.insert_binding(
        conn, member_id=member_id, merchant_id=merchant_id, referrer_id=sharer["id"],
        link_id=link["id"], ip=ip, status=status, hold_reason=reason, coupon_code=coupon_code,
        now=now)
    await queries.count_join(conn, link["id"])
    if status == "active":
        await hooks.emit(conn, hooks.FriendJoined(merchant_id, sharer["id"], member_id, now))
    return Bound(sharer["id"], status, coupon_code)


async def bind_on_join(conn: asyncpg.Connection, *, merchant_id: str, member_id: str,
                       share_code: str | None, now: datetime,
                       ip: str | None = None) -> Bound | None:
    """For a join page: call right after creating the member, in the same transaction. A
    bad, foreign or self-referring code leaves the member joined but unbound (None)."""
    if not share_code:
        return None
    try:
        async with conn.transaction():  # savepoint: a refusal undoes only the binding
            return await bind_new_member(conn, merchant_id=merchant_id, member_id=member_id,
                                         share_code=share_code, now=now, ip=ip)
    except AppError as exc:
        log.info("join of %s not bound: %s", member_id, exc.code)
    except asyncpg.IntegrityConstraintViolationError as exc:  # lost a race to the trigger
        log.info("join of %s not bound: %s", member_id, exc.constraint_name)
    return None


async def bind_from_api(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                        share_code: str, now: datetime) -> None:
    """The ShareCodes port's ``bind_created``: after the members API created a member with a
    share code."""
    await bind_new_member(conn, merchant_id=merchant_id, member_id=member_id,
                          share_code=share_code, now=now)


async def review(conn: asyncpg.Connection, merchant_id: str, member_id: str, approve: bool,
                 now: datetime) -> None:
    """A merchant's verdict on a held binding: approved, its commissions flow (pending, then
    released after their hold); rejected, they never count, and none flow across it later."""
    row = await queries.binding(conn, merchant_id, member_id, for_update=True)
    if row is None:
        raise NotFound("No such binding.")
    if row["status"] != "held":
        raise BindingNotHeld(status=row["status"])
    await queries.set_binding_status(conn, member_id, "active" if approve else "rejected", now)
    await ledger.review_held(conn, merchant_id, member_id)
    if approve:
        await hooks.emit(conn, hooks.FriendJoined(merchant_id, row["referrer_id"], member_id,
                                                  now))
