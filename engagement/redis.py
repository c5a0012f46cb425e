"""The Redis client shared by the app (hot path, idempotency, rate limits)."""

from __future__ import annotations

from redis.asyncio import Redis


def create_redis(url: str) -> Redis:
    # decode_responses stays off: Lua scripts return bytes and we decode where we know the type.
    return Redis.from_url(url, max_connections=256, health_check_interval=30)
