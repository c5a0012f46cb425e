"""Join verification codes in Redis: short-lived, single use, a few guesses each.

Codes are stored as an HMAC, never in clear, so a Redis dump does not hand out logins."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from redis.asyncio import Redis

from engagement.constants import (
    JOIN_CODE_KEY,
    JOIN_CODE_MAX_ATTEMPTS,
    JOIN_CODE_TTL_SECONDS,
    JOIN_IP_KEY,
    JOIN_RESEND_KEY,
    JOIN_RESEND_SECONDS,
    JOIN_SENDS_PER_IP_PER_HOUR,
)
from engagement.errors import InvalidInput, RateLimited


class CodeInvalid(InvalidInput):
    code, message = "code_invalid", "The verification code is wrong."


class CodeExpired(InvalidInput):
    code, message = "code_expired", "The verification code has expired; ask for a new one."


class ResendTooSoon(RateLimited):
    code = "code_resend_too_soon"
    message = "A code was sent moments ago; wait before asking again."


def _digest(secret_key: str, merchant_id: str, phone: str, code: str) -> str:
    message = f"{merchant_id}|{phone}|{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


class VerificationCodes:
    def __init__(self, redis: Redis, secret_key: str) -> None:
        self.redis = redis
        self.secret_key = secret_key

    async def issue(self, merchant_id: str, phone: str, client: str) -> str:
        resend_key = JOIN_RESEND_KEY.format(merchant_id=merchant_id, phone=phone)
        if not await self.redis.set(resend_key, "1", nx=True, ex=JOIN_RESEND_SECONDS):
            ttl = await self.redis.ttl(resend_key)
            raise ResendTooSoon(retry_after=max(1, int(ttl)))
        ip_key = JOIN_IP_KEY.format(ip=client)
        sent = await self.redis.incr(ip_key)
        if sent == 1:
            await self.redis.expire(ip_key, 3600)
        if sent > JOIN_SENDS_PER_IP_PER_HOUR:
            raise RateLimited(retry_after=max(1, int(await self.redis.ttl(ip_key))))
        code = f"{secrets.randbelow(1_000_000):06d}"
        key = JOIN_CODE_KEY.format(merchant_id=merchant_id, phone=phone)
        digest = _digest(self.secret_key, merchant_id, phone, code)
        await self.redis.delete(key)
        await self.redis.hset(key, mapping={"digest": digest, "tries": 0})  # type: ignore[misc]
        await self.redis.expire(key, JOIN_CODE_TTL_SECONDS)
        return code

    async def check(self, merchant_id: str, phone: str, code: str) -> None:
        """Passes once per code; every guess counts, and the last wrong one burns the code."""
        key = JOIN_CODE_KEY.format(merchant_id=merchant_id, phone=phone)
        stored = await self.redis.hget(key, "digest")  # type: ignore[misc]
        if stored is None:
            raise CodeExpired()
        tries = await self.redis.hincrby(key, "tries", 1)  # type: ignore[misc]
        if tries > JOIN_CODE_MAX_ATTEMPTS:
            await self.redis.delete(key)
            raise CodeExpired()
        expected = stored.decode() if isinstance(stored, bytes) else str(stored)
        if not hmac.compare_digest(expected, _digest(self.secret_key, merchant_id, phone, code)):
            if tries >= JOIN_CODE_MAX_ATTEMPTS:
                await self.redis.delete(key)
                raise CodeExpired("Too many wrong codes; ask for a new one.")
            raise CodeInvalid(attempts_left=JOIN_CODE_MAX_ATTEMPTS - tries)
        # Single use: only the request that deletes the key may sign in with it.
        if not await self.redis.delete(key):
            raise CodeExpired()
