"""Sign-in throttling in Redis: failed passwords per email, attempts per client address.

Both are checked before the password is, so a locked email answers the same whether the
password is right or wrong: the lock cannot be used to confirm a guess."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from engagement.constants import (
    CONSOLE_LOGIN_ATTEMPTS_PER_IP,
    CONSOLE_LOGIN_EMAIL_KEY,
    CONSOLE_LOGIN_FAILURES_PER_EMAIL,
    CONSOLE_LOGIN_IP_KEY,
    CONSOLE_LOGIN_WINDOW_SECONDS,
)
from engagement.errors import RateLimited


class TooManyLogins(RateLimited):
    code, message = "too_many_logins", "Too many sign-in attempts; wait a while and try again."


def _email_key(email: str) -> str:
    return CONSOLE_LOGIN_EMAIL_KEY.format(digest=hashlib.sha256(email.encode()).hexdigest())


async def _retry_after(redis: Redis, key: str) -> int:
    return max(1, int(await redis.ttl(key)))


async def _count(redis: Redis, key: str) -> int:
    """One more in the key's window. The window starts with the first count (SET NX EX, in
    the same transaction as INCR, so a key never lives on without its expiry; and it works on
    Redis 6.2, the embedded server's version, which lacks EXPIRE NX)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=CONSOLE_LOGIN_WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        _, count = await pipe.execute()
    return int(count)


async def check(redis: Redis, email: str, client: str) -> None:
    """Count this attempt for the address; raise TooManyLogins when either limit is hit."""
    ip_key = CONSOLE_LOGIN_IP_KEY.format(ip=client)
    if await _count(redis, ip_key) > CONSOLE_LOGIN_ATTEMPTS_PER_IP:
        raise TooManyLogins(retry_after=await _retry_after(redis, ip_key))
    failures = await redis.get(_email_key(email))
    if failures is not None and int(failures) >= CONSOLE_LOGIN_FAILURES_PER_EMAIL:
        raise TooManyLogins(retry_after=await _retry_after(redis, _email_key(email)))


async def failed(redis: Redis, email: str) -> None:
    await _count(redis, _email_key(email))


async def succeeded(redis: Redis, email: str) -> None:
    await redis.delete(_email_key(email))
