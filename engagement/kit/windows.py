"""Fixed-window counters in Redis (throttles, guess limits), counted and checked in one
atomic script.

A throttle read first and counted afterwards lets every parallel request pass the read
before any of them counts; an INCR whose EXPIRE comes in a second call can leave a key
that never expires. Here the count and the expiry happen in one script, and the caller
learns the count that includes its own attempt, so of N parallel attempts exactly the
first `limit` are let through."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

# KEYS[1] the counter. ARGV[1] the window in seconds. Returns {count, ttl}: the count with
# this attempt included, and the seconds left in the window. The expiry is set whenever
# the key has none, so a key can never outlive its window.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True)
class Hit:
    count: int
    retry_after: int

    def over(self, limit: int) -> bool:
        return self.count > limit


async def hit(redis: Redis, key: str, window_seconds: int) -> Hit:
    """Count one attempt in the key's window (which starts with the first attempt)."""
    count, ttl = await redis.register_script(_HIT)(keys=[key], args=[window_seconds])
    return Hit(int(count), max(1, int(ttl)))
