"""Referral programs, share links, and what members and merchants see of them."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.coupons import queries as coupon_queries
from engagement.kit.errors import InvalidInput
from engagement.kit.ids import new_id, random_code
from referrals import queries
from referrals.errors import ProgramNotFound, ReferralProgramDisabled, TemplateNotShareable
from referrals.ledger import service as ledger
from referrals.phones import mask_name, mask_phone
from referrals.schemas import (
    CommissionOut,
    InviteeOut,
    Level,
    ProgramIn,
    ProgramOut,
    ReferralsOut,
    ShareLinkOut,
)

# Public and short enough to read out or type: 8 symbols of Crockford's alphabet (40 bits);
# codes are unique across merchants because /r/{code} names no merchant.
SHARE_CODE_LENGTH = 8
INVITEES_SHOWN = 100


def program_out(row: asyncpg.Record) -> ProgramOut:
    return ProgramOut(
        enabled=row["enabled"], reward_coupon_template_id=row["reward_coupon_template_id"],
        share_coupon_template_ids=list(row["share_template_ids"]),
        levels=[Level(rate_bp=r) for r in row["level_rates_bp"]], trigger=row["trigger"],
        hold_days=row["hold_days"],
        max_paid_referrals_per_day=row["max_paid_referrals_per_day"],
        max_joins_per_ip_per_hour=row["max_joins_per_ip_per_hour"],
        min_withdrawal=row["min_withdrawal"], updated_at=row["updated_at"])


async def put_program(conn: asyncpg.Connection, merchant_id: str, data: ProgramIn,
                      now: datetime) -> ProgramOut:
    wanted = [t for t in [data.reward_coupon_template_id, *data.share_coupon_template_ids] if t]
    known = {t["id"] for t in await coupon_queries.templates_by_ids(conn, merchant_id, wanted)}
    for template_id in wanted:
        if template_id not in known:
            raise InvalidInput("No such coupon template.", template_id=template_id,
                               fields=[{"field": "reward_coupon_template_id"
                                        if template_id == data.reward_coupon_template_id
                                        else "share_coupon_template_ids"}])
    row = await queries.upsert_program(
        conn, merchant_id=merchant_id, enabled=data.enabled,
        reward_template_id=data.reward_coupon_template_id,
        share_template_ids=list(dict.fromkeys(data.share_coupon_template_ids)),
        level_rates_bp=[level.rate_bp for level in data.levels], trigger=data.trigger,
        hold_days=data.hold_days, max_paid_referrals_per_day=data.max_paid_referrals_per_day,
        max_joins_per_ip_per_hour=data.max_joins_per_ip_per_hour,
        min_withdrawal=data.min_withdrawal, now=now)
    return program_out(row)


async def get_program(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> ProgramOut:
    row = await queries.program(conn, merchant_id)
    if row is None:
        raise ProgramNotFound()
    return program_out(row)


def link_out(row: asyncpg.Record, public_url: str) -> ShareLinkOut:
    url = f"{public_url.rstrip('/')}/r/{row['code']}"
    return ShareLinkOut(code=row["code"], url=url, qr_url=f"{url}/qr.svg",
                        coupon_template_id=row["coupon_template_id"], joins=row["joins"],
                        created_at=row["created_at"])


async def share_link(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                     template_id: str | None, now: datetime,
                     public_url: str) -> tuple[ShareLinkOut, bool]:
    """The member's link for a coupon (the program's reward coupon by default), created on
    first request; the bool says whether it was created now."""
    program = await queries.program(conn, merchant_id)
    if program is None or not program["enabled"]:
        raise ReferralProgramDisabled()
    allowed = {program["reward_coupon_template_id"], *program["share_template_ids"]} - {None}
    if template_id is None:
        template_id = program["reward_coupon_template_id"]
    elif template_id not in allowed:
        raise TemplateNotShareable(coupon_template_id=template_id,
                                   fields=[{"field": "coupon_template_id"}])
    while True:
        existing = await queries.link_of_member(conn, member_id, template_id)
        if existing is not None:
            return link_out(existing, public_url), False
        row = await queries.insert_link(
            conn, id=new_id("shl"), merchant_id=merchant_id, member_id=member_id,
            code=random_code(SHARE_CODE_LENGTH), template_id=template_id, now=now)
        if row is not None:
            return link_out(row, public_url), True
        # The member's twin request made the link, or (rarely) the code was taken: look again.


def invitee_out(row: asyncpg.Record) -> InviteeOut:
    name = mask_name(row["name"])
    phone = mask_phone(row["phone"]) if row["phone"] else ""
    display = " ".join(p for p in (name, phone) if p) or "会员"
    return InviteeOut(display_name=display, joined_at=row["created_at"], status=row["status"])


async def my_referrals(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                       now: datetime, public_url: str, *,
                       create_link: bool = False) -> ReferralsOut:
    """What the referrer sees: the default share link (made on first view of the page, so
    the page always has one to show), invitees masked, and commission balances."""
    link = None
    program = await queries.program(conn, merchant_id)
    if program is not None and program["enabled"]:
        if create_link:
            link, _ = await share_link(conn, merchant_id, member_id, None, now, public_url)
        else:
            row = await queries.link_of_member(conn, member_id,
                                               program["reward_coupon_template_id"])
            link = link_out(row, public_url) if row is not None else None
    invitees = [invitee_out(r) for r in await queries.invitees(conn, member_id, INVITEES_SHOWN)]
    return ReferralsOut(share_link=link, invitees=invitees,
                        commission=await ledger.balance(conn, member_id))


def commission_out(row: asyncpg.Record) -> CommissionOut:
    return CommissionOut.model_validate(dict(row))
