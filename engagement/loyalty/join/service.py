"""Joining in one step (领券先领卡): a verified phone number makes a visitor a member, or
signs an existing member back in, and hands the browser a member token."""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg

from engagement.kit.errors import AppError
from engagement.kit.state import Services
from engagement.loyalty.join.codes import VerificationCodes
from engagement.loyalty.join.schemas import JoinRequest
from engagement.loyalty.join.senders import load_sender
from engagement.members import queries as member_queries
from engagement.members import service as members
from engagement.members import share_codes
from engagement.members.schemas import MemberCreate, TokenOut
from engagement.members.share_codes import ShareCodes
from engagement.merchants.schemas import Merchant

log = logging.getLogger(__name__)



def external_id_for(phone: str) -> str:
    return f"phone:{phone}"


async def send_code(svc: Services, merchant: Merchant, phone: str, client: str) -> None:
    codes = VerificationCodes(svc.redis, svc.secret_key)
    code = await codes.issue(merchant.id, phone, client)
    await load_sender(svc.settings.verification_sender).send(phone, code, merchant)


async def join(svc: Services, merchant: Merchant, data: JoinRequest,
               client: str | None = None) -> tuple[TokenOut, bool]:
    """Check the code, then find the member with this phone or create one (bound under
    the sharer, with the share coupon, when a share code came along). Returns the new
    member token and whether the member was created now."""
    await VerificationCodes(svc.redis, svc.secret_key).check(merchant.id, data.phone, data.code)
    async with svc.unit() as unit:
        existing = await member_queries.member_by_phone(unit.conn, merchant.id, data.phone)
        created = False
        if existing is not None:
            member_id = existing["id"]
        else:
            create = MemberCreate(external_id=external_id_for(data.phone), phone=data.phone,
                                  share_code=data.share)
            port = share_codes.installed()
            referrer_id = await _referrer(unit.conn, merchant.id, create, port)
            member, created = await members.create_or_get_member(
                unit.conn, merchant.id, create, referrer_id=referrer_id)
            member_id = member.id
            if created and port is not None and data.share:
                await port.bind_joined(unit.conn, merchant_id=merchant.id, member_id=member_id,
                             share_code=data.share, now=svc.clock.now(), ip=client)
        token = await members.issue_token(
            unit.conn, merchant_id=merchant.id, member_id=member_id, now=svc.clock.now(),
            ttl=timedelta(hours=svc.settings.member_token_ttl_hours),
            public_url=svc.settings.public_url)
    return token, created


async def _referrer(conn: asyncpg.Connection, merchant_id: str, data: MemberCreate,
                    port: ShareCodes | None) -> str | None:
    """A stale or unknown share code must not stop anyone from joining: it is dropped."""
    if data.share_code is None or port is None:
        return None
    try:
        async with conn.transaction():  # a savepoint: the port's failure stays inside
            return await port.referrer(conn, merchant_id, data)
    except AppError as exc:
        log.info("share code %s not applied: %s", data.share_code, exc.code)
        return None
