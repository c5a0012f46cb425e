"""Sign-in throttling in Redis: attempts per email, attempts per client address.

Every attempt is counted before its password is checked (one atomic count each, see
engagement/kit/windows.py), so 25 parallel guesses at one email get at most five passwords
checked; a success clears the email's count. Both limits are checked before the password
is, so a locked email answers the same whether the password is right or wrong: the lock
cannot be used to confirm a guess."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from engagement.kit.constants import (
    CONSOLE_LOGIN_ATTEMPTS_PER_IP,
    CONSOLE_LOGIN_EMAIL_KEY,
    CONSOLE_LOGIN_FAILURES_PER_EMAIL,
    CONSOLE_LOGIN_IP_KEY,
    CONSOLE_LOGIN_WINDOW_SECONDS,
)
from engagement.kit.errors import RateLimited
from engagement.kit.windows import hit


class TooManyLogins(RateLimited):
    code, message = "too_many_logins", "Too many sign-in attempts; wait a while and try again."


def _email_key(email: str) -> str:
    return CONSOLE_LOGIN_EMAIL_KEY.format(digest=hashlib.sha256(email.encode()).hexdigest())


async def attempt(redis: Redis, email: str, client: str) -> None:
    """Count this attempt for the address and the email; raise TooManyLogins when either
    is past its limit. Only attempts that pass may have their password checked."""
    by_address = await hit(redis, CONSOLE_LOGIN_IP_KEY.format(ip=client),
                           CONSOLE_LOGIN_WINDOW_SECONDS)
    if by_address.over(CONSOLE_LOGIN_ATTEMPTS_PER_IP):
        raise TooManyLogins(retry_after=by_address.retry_after)
    by_email = await hit(redis, _email_key(email), CONSOLE_LOGIN_WINDOW_SECONDS)
    if by_email.over(CONSOLE_LOGIN_FAILURES_PER_EMAIL):
        raise TooManyLogins(retry_after=by_email.retry_after)


async def succeeded(redis: Redis, email: str) -> None:
    """The right password: the email's count starts over, as if its attempts were typos."""
    await redis.delete(_email_key(email))
