"""Join verification codes in Redis: short-lived, single use, a few guesses each.

Codes are stored as an HMAC, never in clear, so a Redis dump does not hand out logins. A
guess is counted and compared in one script (`_CHECK`): checked first and counted after,
forty parallel guesses would all be checked before any was counted."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from redis.asyncio import Redis

from engagement.kit.constants import (
    JOIN_CODE_KEY,
    JOIN_CODE_MAX_ATTEMPTS,
    JOIN_CODE_TTL_SECONDS,
    JOIN_IP_KEY,
    JOIN_RESEND_KEY,
    JOIN_RESEND_SECONDS,
    JOIN_SENDS_PER_IP_PER_HOUR,
)
from engagement.kit.errors import InvalidInput, RateLimited
from engagement.kit.windows import hit

# KEYS[1] the code's hash. ARGV: 1 the guess's digest, 2 guesses allowed. Counting the
# guess only on a key that exists (HGET first, in the same script) keeps HINCRBY from
# recreating a burnt code without its expiry. Replies: {'ok'} (the code is used up),
# {'wrong', guesses left}, {'expired'} (no code, or it has just been burnt).
_CHECK = """
local stored = redis.call('HGET', KEYS[1], 'digest')
if not stored then return {'expired'} end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
local allowed = tonumber(ARGV[2])
if tries > allowed then
  redis.call('DEL', KEYS[1])
  return {'expired'}
end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'ok'}
end
if tries >= allowed then
  redis.call('DEL', KEYS[1])
  return {'burnt'}
end
return {'wrong', allowed - tries}
"""


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
        sent = await hit(self.redis, JOIN_IP_KEY.format(ip=client), 3600)
        if sent.over(JOIN_SENDS_PER_IP_PER_HOUR):
            raise RateLimited(retry_after=sent.retry_after)
        code = f"{secrets.randbelow(1_000_000):06d}"
        key = JOIN_CODE_KEY.format(merchant_id=merchant_id, phone=phone)
        digest = _digest(self.secret_key, merchant_id, phone, code)
        async with self.redis.pipeline(transaction=True) as pipe:  # never without its expiry
            pipe.delete(key)
            pipe.hset(key, mapping={"digest": digest, "tries": 0})
            pipe.expire(key, JOIN_CODE_TTL_SECONDS)
            await pipe.execute()
        return code

    async def check(self, merchant_id: str, phone: str, code: str) -> None:
        """Passes once per code; every guess counts, and the last wrong one burns the code."""
        key = JOIN_CODE_KEY.format(merchant_id=merchant_id, phone=phone)
        digest = _digest(self.secret_key, merchant_id, phone, code)
        reply = await self.redis.register_script(_CHECK)(
            keys=[key], args=[digest, JOIN_CODE_MAX_ATTEMPTS])
        verdict = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        if verdict == "ok":
            return
        if verdict == "wrong":
            raise CodeInvalid(attempts_left=int(reply[1]))
        if verdict == "burnt":
            raise CodeExpired("Too many wrong codes; ask for a new one.")
        raise CodeExpired()
