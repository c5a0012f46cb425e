"""The draw hot path's Redis side: the Lua scripts, and the pipeline concurrent draws share.
What the draw scripts are called with and answer is laid out in protocol.py.

The scripts run where campaigns' hot state lives (``Services.hot``: the standalone Redis,
or a Redis Cluster, engagement/kit/hot_redis.py). Every key a call passes carries its
campaign's hash tag, so each call runs on the one node that holds its campaign."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from engagement.kit.batch import MicroBatcher
from engagement.kit.hot_redis import HotRedis, PackedSender, lua_script
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
    """The Lua scripts, registered once per process (EVALSHA; on NOSCRIPT the script is
    loaded, on every primary of a cluster, and the refused calls made again)."""

    def __init__(self, redis: HotRedis) -> None:
        self.redis = redis
        self._sender = PackedSender(redis)
        self.draw = _register(redis, "draw.lua")
        self.undo = _register(redis, "undo.lua")
        self.prime = _register(redis, "prime.lua")
        self.patch = _register(redis, "patch.lua")
        self.seed = _register(redis, "seed.lua")
        # One pipeline out at a time: the draws arriving meanwhile make up the next one.
        self._draws: MicroBatcher[_ScriptCall, Any] = MicroBatcher(
            _PipelinedEvalsha(self._sender, self.draw), max_size=256, max_in_flight=1)
        # The same for the records of Idempotency-Keys whose draws are written.
        self._marks: MicroBatcher[tuple[str, str], Any] = MicroBatcher(
            _PipelinedMarks(self._sender), max_size=256, max_in_flight=1)

    async def run_draw(self, keys: DrawKeys, args: DrawArgs, fairness: Fairness) -> DrawReply:
        raw = await self._draws.submit((keys, [args.pack(), *fairness]))
        return parse_draw_reply(raw)

    async def mark_drawn(self, key: str, record: str) -> None:
        """Replace a key's record ('P|...', its draw being written) with the written one
        ('D|...'), keeping its expiry; nothing if the record is gone meanwhile."""
        await self._marks.submit((key, record))

    async def aclose(self) -> None:
        """Close the connections of the batches' own (a cluster's per-node ones)."""
        await self._sender.aclose()

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


def _register(redis: HotRedis, name: str) -> AsyncScript:
    return lua_script(redis, (_LUA / name).read_text())


class _PipelinedEvalsha:
    """Flushes a batch of calls of one script as one pipeline: one write and one read for
    all of them (one per node on a cluster). Each call is still its own atomic script; only
    the round trip is shared."""

    def __init__(self, sender: PackedSender, script: AsyncScript) -> None:
        self.sender = sender
        self.script = script

    async def __call__(self, calls: list[_ScriptCall]) -> list[Any]:
        results = await self._evalsha(calls)
        missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
        if missing:
            # A node restarted or was flushed of scripts: load it (on every primary of a
            # cluster), then call again only the calls it refused: the others have run.
            await self.sender.client.script_load(self.script.script)
            again = await self._evalsha([calls[i] for i in missing])
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        return results

    async def _evalsha(self, calls: list[_ScriptCall]) -> list[Any]:
        """EVALSHA for every call, replies in order; an error reply (a script's own error,
        or NOSCRIPT) is returned in its place. A call is routed by its first key: all of
        its keys carry the campaign's hash tag."""
        sha = self.script.sha
        return await self.sender.send([
            (keys[0], ("EVALSHA", sha, len(keys), *keys, *args)) for keys, args in calls])


class _PipelinedMarks:
    """SET key value XX KEEPTTL for a batch of written draws' records, as one pipeline (one
    per node on a cluster)."""

    def __init__(self, sender: PackedSender) -> None:
        self.sender = sender

    async def __call__(self, calls: list[tuple[str, str]]) -> list[Any]:
        return await self.sender.send([(key, ("SET", key, record, "XX", "KEEPTTL"))
                                       for key, record in calls])


def _strs(values: dict[str, int]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


def scripts_for(svc: Services) -> Scripts:
    """The process's registered scripts (they cache their SHA, and concurrent draws share
    their pipeline)."""
    return svc.helper(Scripts, lambda: Scripts(svc.hot))


async def read_counts(redis: HotRedis, key: str) -> dict[str, int]:
    raw: dict[bytes, bytes] = await redis.hgetall(key)  # type: ignore[misc]
    return {k.decode(): int(v) for k, v in raw.items()}
