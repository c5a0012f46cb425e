"""The draw hot path's Redis side: key names and the Lua scripts that use them."""

from __future__ import annotations

import asyncio
import json
import weakref
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from hiredis import pack_command
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from engagement.kit.constants import (
    CAMPAIGN_TAG,
    DRAW_DAY_COUNTER_TTL_SECONDS,
    IDEMPOTENCY_TTL_SECONDS,
)

_LUA = Path(__file__).parent / "lua"


def _tag(campaign_id: str) -> str:
    return CAMPAIGN_TAG.format(campaign_id=campaign_id)


@dataclass(frozen=True)
class CampaignKeys:
    tag: str
    meta: str
    wins: str
    qty: str
    stats: str
    prime_lock: str

    @classmethod
    def of(cls, campaign_id: str) -> CampaignKeys:
        return _campaign_keys(campaign_id)


@lru_cache(maxsize=4096)  # every draw needs them: built once per campaign
def _campaign_keys(campaign_id: str) -> CampaignKeys:
    t = _tag(campaign_id)
    return CampaignKeys(t, f"{t}:meta", f"{t}:wins", f"{t}:qty", f"{t}:stats", f"{t}:prime")


def member_day_key(campaign_id: str, member_id: str, day: date) -> str:
    return f"{_tag(campaign_id)}:day:{day.isoformat()}:{member_id}"


def member_total_key(campaign_id: str, member_id: str) -> str:
    return f"{_tag(campaign_id)}:tot:{member_id}"


def draw_keys(campaign_id: str, member_id: str, day: date, idempotency_key: str | None
              ) -> list[str]:
    """draw.lua's KEYS (the per-member ones spelled as member_day_key and member_total_key
    spell them, which the re-prime writes)."""
    c = _campaign_keys(campaign_id)
    t = c.tag
    idem = f"{t}:idem:{member_id}:{idempotency_key}" if idempotency_key else f"{t}:idem:-"
    return [c.meta, c.wins, c.qty, f"{t}:day:{day.isoformat()}:{member_id}",
            f"{t}:tot:{member_id}", idem, f"{t}:burst:{member_id}", c.stats,
            f"{t}:held:{member_id}"]


def draw_args(*, now_ms: int, rand: int, draw_id: str, created_at: str, idempotent: bool,
              request_hash: str, campaign_id: str, merchant_id: str,
              record_checked: bool = False, day_ttl: int = DRAW_DAY_COUNTER_TTL_SECONDS,
              idempotency_ttl: int = IDEMPOTENCY_TTL_SECONDS) -> str:
    """draw.lua's one argument: its fields joined by tabs (none may be empty or hold one)."""
    return "\t".join((str(now_ms), str(rand), draw_id, created_at, "1" if idempotent else "0",
                      request_hash, campaign_id, merchant_id, str(day_ttl),
                      str(idempotency_ttl), "1" if record_checked else "0"))


class Scripts:
    """The Lua scripts, loaded once per Redis client (EVALSHA, falling back to EVAL)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.draw = redis.register_script((_LUA / "draw.lua").read_text())
        self.undo = redis.register_script((_LUA / "undo.lua").read_text())
        self.prime = redis.register_script((_LUA / "prime.lua").read_text())
        self.patch = redis.register_script((_LUA / "patch.lua").read_text())
        self.seed = redis.register_script((_LUA / "seed.lua").read_text())
        self._batch = _ScriptBatch(redis, self.draw)

    async def run_draw(self, keys: list[str], *, now_ms: int, rand: int, draw_id: str,
                       created_at: str, idempotent: bool, request_hash: str, campaign_id: str,
                       merchant_id: str, record_checked: bool) -> list[Any]:
        result = await self._batch.call(keys, [draw_args(
            now_ms=now_ms, rand=rand, draw_id=draw_id, created_at=created_at,
            idempotent=idempotent, request_hash=request_hash, campaign_id=campaign_id,
            merchant_id=merchant_id, record_checked=record_checked)])
        return [x.decode() if isinstance(x, bytes) else x for x in result]

    async def run_undo(self, keys: list[str], *, prize_id: str, first_draw: bool,
                       idempotent: bool) -> None:
        await self.undo(keys=keys, args=[prize_id, "1" if first_draw else "0",
                                         "1" if idempotent else "0"])

    async def run_seed(self, key: str, holdings: dict[str, int], ttl: int) -> None:
        """Seed a member's coupon holdings (draw.lua's KEYS[9]) unless already there."""
        pairs = [str(x) for field, value in holdings.items() for x in (field, value)]
        await self.seed(keys=[key], args=[ttl, *pairs])

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


class _ScriptBatch:
    """Concurrent draws share one pipeline: one connection checkout, one write and one read
    for all the script calls that arrived while the previous pipeline was out. Each call is
    still its own atomic script; only the round trip is shared."""

    MAX = 256

    def __init__(self, redis: Redis, script: AsyncScript) -> None:
        self.redis = redis
        self.script = script
        self.pending: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []
        self.flushing = False

    async def call(self, keys: list[str], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append((keys, args, future))
        if not self.flushing:
            self.flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:self.MAX], self.pending[self.MAX:]
                try:
                    results = await self._evalsha(batch)
                    if any(isinstance(r, NoScriptError) for r in results):
                        # Redis restarted or was flushed of scripts: load it, then again.
                        await self.redis.script_load(self.script.script)
                        results = await self._evalsha(batch)
                except BaseException as exc:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, _, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.flushing = False

    async def _evalsha(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]
                       ) -> list[Any]:
        """EVALSHA for the whole batch in one write, replies read in order; an error reply
        (NOSCRIPT) is returned in its place. The commands are packed by hiredis, in C:
        redis-py's pipeline packs them in Python, argument by argument, which cost more
        than the rest of a draw's Redis work together."""
        sha = self.script.sha
        packed = b"".join([pack_command(("EVALSHA", sha, len(keys), *keys, *args))
                           for keys, args, _ in batch])
        pool = self.redis.connection_pool
        conn = await pool.get_connection()
        try:
            await conn.send_packed_command(packed)
            results: list[Any] = []
            for _ in batch:
                try:
                    results.append(await conn.read_response())
                except ResponseError as exc:  # this script's own error; the rest follow
                    results.append(exc)
        except BaseException:
            # A reply may be left unread: the connection cannot be trusted again.
            await conn.disconnect(nowait=True)
            raise
        finally:
            await pool.release(conn)
        return results


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
