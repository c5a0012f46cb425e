"""The draw hot path's Redis side: key names and the Lua scripts that use them."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from engagement.constants import (
    CAMPAIGN_TAG,
    DRAW_DAY_COUNTER_TTL_SECONDS,
    IDEMPOTENCY_TTL_SECONDS,
)

_HERE = Path(__file__).parent


def _tag(campaign_id: str) -> str:
    return CAMPAIGN_TAG.format(campaign_id=campaign_id)


@dataclass(frozen=True)
class CampaignKeys:
    meta: str
    wins: str
    qty: str
    stats: str
    prime_lock: str

    @classmethod
    def of(cls, campaign_id: str) -> CampaignKeys:
        t = _tag(campaign_id)
        return cls(f"{t}:meta", f"{t}:wins", f"{t}:qty", f"{t}:stats", f"{t}:prime")


def member_day_key(campaign_id: str, member_id: str, day: date) -> str:
    return f"{_tag(campaign_id)}:day:{day.isoformat()}:{member_id}"


def member_total_key(campaign_id: str, member_id: str) -> str:
    return f"{_tag(campaign_id)}:tot:{member_id}"


def draw_keys(campaign_id: str, member_id: str, day: date, idempotency_key: str | None
              ) -> list[str]:
    c = CampaignKeys.of(campaign_id)
    t = _tag(campaign_id)
    idem = f"{t}:idem:{member_id}:{idempotency_key}" if idempotency_key else f"{t}:idem:-"
    return [c.meta, c.wins, c.qty, member_day_key(campaign_id, member_id, day),
            member_total_key(campaign_id, member_id), idem, f"{t}:burst:{member_id}", c.stats]


class Scripts:
    """The Lua scripts, loaded once per Redis client (EVALSHA, falling back to EVAL)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.draw = redis.register_script((_HERE / "draw.lua").read_text())
        self.undo = redis.register_script((_HERE / "undo.lua").read_text())
        self.prime = redis.register_script((_HERE / "prime.lua").read_text())
        self.patch = redis.register_script((_HERE / "patch.lua").read_text())

    async def run_draw(self, keys: list[str], *, now_ms: int, rand: int, draw_id: str,
                       created_at: str, idempotent: bool, request_hash: str, campaign_id: str,
                       merchant_id: str) -> list[Any]:
        result: list[Any] = await self.draw(keys=keys, args=[
            now_ms, rand, draw_id, created_at, "1" if idempotent else "0", request_hash,
            campaign_id, merchant_id, DRAW_DAY_COUNTER_TTL_SECONDS, IDEMPOTENCY_TTL_SECONDS])
        return [x.decode() if isinstance(x, bytes) else x for x in result]

    async def run_undo(self, keys: list[str], *, prize_id: str, first_draw: bool,
                       idempotent: bool) -> None:
        await self.undo(keys=keys, args=[prize_id, "1" if first_draw else "0",
                                         "1" if idempotent else "0"])

    async def run_prime(self, campaign_id: str, *, meta: dict[str, str], wins: dict[str, int],
                        qty: dict[str, int], stats: dict[str, int]) -> None:
        c = CampaignKeys.of(campaign_id)
        await self.prime(keys=[c.meta, c.wins, c.qty, c.stats], args=[
            json.dumps(meta), json.dumps(_strs(wins)), json.dumps(_strs(qty)),
            json.dumps(_strs(stats))])

    async def run_patch(self, campaign_id: str, *, meta: dict[str, str],
                        qty: dict[str, int]) -> bool:
        c = CampaignKeys.of(campaign_id)
        done = await self.patch(keys=[c.meta, c.qty],
                                args=[json.dumps(meta), json.dumps(_strs(qty))])
        return bool(done)


def _strs(values: dict[str, int]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


_scripts: weakref.WeakKeyDictionary[Redis, Scripts] = weakref.WeakKeyDictionary()


def scripts_for(redis: Redis) -> Scripts:
    """One set of registered scripts per Redis client (they cache their SHA)."""
    found = _scripts.get(redis)
    if found is None:
        found = _scripts[redis] = Scripts(redis)
    return found


async def read_counts(redis: Redis, key: str) -> dict[str, int]:
    raw: dict[bytes, bytes] = await redis.hgetall(key)  # type: ignore[misc]
    return {k.decode(): int(v) for k, v in raw.items()}
