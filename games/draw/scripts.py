"""The draw hot path's Redis side: the Lua scripts, and the pipeline concurrent draws share.
What the draw scripts are called with and answer is laid out in protocol.py."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hiredis import pack_command
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from engagement.kit.batch import MicroBatcher
from engagement.kit.state import Services
from games.draw.protocol import (
    CampaignKeys,
    DrawArgs,
    DrawKeys,
    DrawReply,
    Fairness,
    UndoArgs,
    parse_draw_reply,
)

_LUA = Path(__file__).parent / "lua"

_ScriptCall = tuple[Sequence[str], list[str]]  # one script call's keys and arguments


class Scripts:
    """The Lua scripts, registered once per process (EVALSHA, falling back to EVAL)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.draw = redis.register_script((_LUA / "draw.lua").read_text())
        self.undo = redis.register_script((_LUA / "undo.lua").read_text())
        self.prime = redis.register_script((_LUA / "prime.lua").read_text())
        self.patch = redis.register_script((_LUA / "patch.lua").read_text())
        self.seed = redis.register_script((_LUA / "seed.lua").read_text())
        # One pipeline out at a time: the draws arriving meanwhile make up the next one.
        self._draws: MicroBatcher[_ScriptCall, Any] = MicroBatcher(
            _PipelinedEvalsha(redis, self.draw), max_size=256, max_in_flight=1)
        # The same for the records of Idempotency-Keys whose draws are written.
        self._marks: MicroBatcher[tuple[str, str], Any] = MicroBatcher(
            _PipelinedMarks(redis), max_size=256, max_in_flight=1)

    async def run_draw(self, keys: DrawKeys, args: DrawArgs, fairness: Fairness) -> DrawReply:
        raw = await self._draws.submit((keys, [args.pack(), *fairness]))
        return parse_draw_reply(raw)

    async def mark_drawn(self, key: str, record: str) -> None:
        """Replace a key's record ('P|...', its draw being written) with the written one
        ('D|...'), keeping its expiry; nothing if the record is gone meanwhile."""
        await self._marks.submit((key, record))

    async def run_undo(self, keys: DrawKeys, args: UndoArgs) -> None:
        await self.undo(keys=keys, args=args.pack())

    async def run_seed(self, key: str, holdings: dict[str, int], ttl: int) -> None:
        """Seed a member's coupon holdings (DrawKeys.held) unless already there."""
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


class _PipelinedEvalsha:
    """Flushes a batch of calls of one script as one pipeline: one connection checkout, one
    write and one read for all of them. Each call is still its own atomic script; only the
    round trip is shared."""

    def __init__(self, redis: Redis, script: AsyncScript) -> None:
        self.redis = redis
        self.script = script

    async def __call__(self, calls: list[_ScriptCall]) -> list[Any]:
        results = await self._evalsha(calls)
        if any(isinstance(r, NoScriptError) for r in results):
            # Redis restarted or was flushed of scripts: load it, then again.
            await self.redis.script_load(self.script.script)
            results = await self._evalsha(calls)
        return results

    async def _evalsha(self, calls: list[_ScriptCall]) -> list[Any]:
        """EVALSHA for every call in one write, replies read in order; an error reply (a
        script's own error, or NOSCRIPT) is returned in its place."""
        sha = self.script.sha
        # hiredis's stub types `cmd` as a tuple of one element.
        return await _send_packed(self.redis, [
            pack_command(("EVALSHA", sha, len(keys), *keys, *args))  # type: ignore[arg-type]
            for keys, args in calls])


class _PipelinedMarks:
    """SET key value XX KEEPTTL for a batch of written draws' records, as one pipeline."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def __call__(self, calls: list[tuple[str, str]]) -> list[Any]:
        return await _send_packed(self.redis, [
            pack_command(("SET", key, record, "XX", "KEEPTTL"))  # type: ignore[arg-type]
            for key, record in calls])


async def _send_packed(redis: Redis, commands: list[bytes]) -> list[Any]:
    """Commands packed by hiredis, in C, sent in one write, their replies read in order; an
    error reply is returned in its place. redis-py's pipeline packs each argument in Python,
    which cost more than the rest of a draw's Redis work together."""
    pool = redis.connection_pool
    conn = await pool.get_connection()
    try:
        await conn.send_packed_command(b"".join(commands))
        results: list[Any] = []
        for _ in commands:
            try:
                results.append(await conn.read_response())
            except ResponseError as exc:  # this command's own error; the rest follow
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


def scripts_for(svc: Services) -> Scripts:
    """The process's registered scripts (they cache their SHA, and concurrent draws share
    their pipeline)."""
    return svc.helper(Scripts, lambda: Scripts(svc.redis))


async def read_counts(redis: Redis, key: str) -> dict[str, int]:
    raw: dict[bytes, bytes] = await redis.hgetall(key)  # type: ignore[misc]
    return {k.decode(): int(v) for k, v in raw.items()}
