"""Member codes (会员码): short-lived numbers that stand for a member at the till. They live
in Redis only: losing them costs a member one refresh of the home page."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from redis.asyncio import Redis

from engagement.kit.constants import MEMBER_CODE_DIGITS, MEMBER_CODE_KEY, MEMBER_CODE_TTL_SECONDS


def _key(merchant_id: str, code: str) -> str:
    return MEMBER_CODE_KEY.format(merchant_id=merchant_id, code=code)


def looks_like_code(text: str) -> bool:
    return len(text) == MEMBER_CODE_DIGITS and text.isdigit()


async def issue(redis: Redis, merchant_id: str, member_id: str,
                now: datetime) -> tuple[str, datetime]:
    """A new code for the member, and when it stops working."""
    while True:  # a clash of two live 18-digit codes is a 10**-14 event; draw again
        # The first digit is never 0, so the code keeps 18 digits as a number too.
        code = str(secrets.randbelow(9 * 10 ** (MEMBER_CODE_DIGITS - 1))
                   + 10 ** (MEMBER_CODE_DIGITS - 1))
        if await redis.set(_key(merchant_id, code), member_id, nx=True,
                           ex=MEMBER_CODE_TTL_SECONDS):
            return code, now + timedelta(seconds=MEMBER_CODE_TTL_SECONDS)


async def resolve(redis: Redis, merchant_id: str, code: str) -> str | None:
    """The member a live code stands for, None when it is unknown or has expired."""
    if not looks_like_code(code):
        return None
    member_id = await redis.get(_key(merchant_id, code))
    if member_id is None:
        return None
    return member_id.decode() if isinstance(member_id, bytes) else str(member_id)
