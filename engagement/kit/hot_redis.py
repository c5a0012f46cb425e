"""Where campaigns' hot state lives, and how batches of commands reach it.

Without ENGAGEMENT_REDIS_CLUSTER_URL the hot state shares the standalone Redis with the job
queue, sessions and throttles. With it, the hot state lives on a Redis Cluster, through
redis-py's asyncio cluster client, while everything else stays on ENGAGEMENT_REDIS_URL: arq
has no cluster support (its queue is a sorted set and job keys that its Lua and MULTI
blocks touch together, under names without hash tags), and sessions and throttles gain
nothing from sharding.

Every key of one campaign carries the hash tag ``{c:<id>}`` (engagement/kit/constants.py),
so each script call's keys sit in one slot and one node answers it. ``PackedSender`` sends a
batch of such commands packed by hiredis: in one write on a standalone Redis, and in one
write per node, concurrently, on a cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from hiredis import pack_command
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterParser, RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    ResponseError,
    TimeoutError,
    TryAgainError,
)

from engagement.kit.config import Settings

HotRedis = Redis | RedisCluster


def lua_script(client: HotRedis, source: str) -> AsyncScript:
    """A Lua script called by EVALSHA (loaded on NOSCRIPT) on either kind of client.
    redis-py types a script's client as the standalone one; the cluster client has the
    same evalsha and script_load (the latter on every primary)."""
    return AsyncScript(client, source)  # type: ignore[arg-type]

# A command of a batch: the key that routes it (all its keys share that key's slot) and
# the command's words.
Routed = tuple[str, tuple[str | int | bytes, ...]]

# Replies that mean a node did not run the command: it belongs elsewhere now (MOVED, a
# subclass of ASK), or the slot is migrating or the cluster re-forming. Safe to send again
# through the cluster client, which follows the redirection and refreshes its slot map.
_NOT_RUN = (AskError, TryAgainError, ClusterDownError)


async def connect_hot(settings: Settings) -> RedisCluster | None:
    """The cluster client when ENGAGEMENT_REDIS_CLUSTER_URL is set (its slot map read now,
    so a wrong URL fails at start-up); None when the hot state shares the standalone Redis."""
    if not settings.redis_cluster_url:
        return None
    cluster = RedisCluster.from_url(settings.redis_cluster_url)
    await cluster.initialize()
    return cluster


class PackedSender:
    """Sends a batch of commands packed by hiredis, in C, and reads their replies in order;
    an error reply is returned in its command's place. redis-py's pipelines pack each
    argument in Python, which cost more than the rest of a draw's Redis work together, and
    its cluster pipeline sends a whole batch again after a connection error, which would run
    a draw script twice.

    On a cluster the batch is split by the node that serves each command's slot, and each
    part goes out in one write on a connection of its own to that node, all parts at once. A
    command a node did not run (a MOVED or ASK reply: the slot moved) is sent again alone
    through the cluster client. A node that cannot be reached fails only its own commands,
    and makes the cluster client read the slot map again before the next batch."""

    def __init__(self, client: HotRedis) -> None:
        self.client = client
        self._nodes: dict[str, Redis] = {}  # one client per node, by "host:port"

    async def send(self, commands: Sequence[Routed]) -> list[Any]:
        client = self.client
        if isinstance(client, RedisCluster):
            return await self._send_to_nodes(client, commands)
        assert isinstance(client, Redis)
        return await _send_packed(client, [_pack(words) for _, words in commands])

    async def aclose(self) -> None:
        for node in self._nodes.values():
            await node.aclose(close_connection_pool=True)
        self._nodes.clear()

    async def _send_to_nodes(self, cluster: RedisCluster, commands: Sequence[Routed]
                             ) -> list[Any]:
        await cluster.initialize()  # no-op unless an error made it drop its slot map
        parts: dict[str, tuple[ClusterNode, list[int]]] = {}
        for i, (key, _) in enumerate(commands):
            node = cluster.get_node_from_key(key)
            assert node is not None  # a primary always; None is only asked of replicas
            parts.setdefault(node.name, (node, []))[1].append(i)
        results: list[Any] = [None] * len(commands)
        unreachable = False

        async def part(node: ClusterNode, indices: list[int]) -> None:
            nonlocal unreachable
            try:
                replies = await _send_packed(self._node(cluster, node),
                                             [_pack(commands[i][1]) for i in indices])
            except Exception as exc:  # this node's commands only; the others stand
                unreachable = unreachable or isinstance(exc, ConnectionError | TimeoutError)
                replies = [exc] * len(indices)
            for i, reply in zip(indices, replies, strict=True):
                results[i] = reply

        if len(parts) == 1:  # all on one node (one campaign's draws): no task to make
            [(node, indices)] = parts.values()
            await part(node, indices)
        else:
            await asyncio.gather(*(part(node, indices) for node, indices in parts.values()))
        if unreachable:
            # As the cluster client does on a connection error: drop the slot map, read
            # again before the next batch (a replica may have taken the node's slots over).
            await cluster.aclose()
        for i, reply in enumerate(results):
            if isinstance(reply, _NOT_RUN):
                try:
                    results[i] = await cluster.execute_command(*commands[i][1])
                except Exception as exc:  # its own error, to its own caller
                    results[i] = exc
        return results

    def _node(self, cluster: RedisCluster, node: ClusterNode) -> Redis:
        found = self._nodes.get(node.name)
        if found is None:
            # The cluster client's own connection settings (password, TLS, timeouts), and
            # its parser, which knows MOVED and ASK replies.
            kwargs: dict[str, Any] = {
                k: v for k, v in cluster.get_connection_kwargs().items()
                if k not in ("host", "port", "response_callbacks", "parser_class")}
            pool = ConnectionPool(host=node.host, port=node.port, parser_class=ClusterParser,
                                  **kwargs)
            found = self._nodes[node.name] = Redis(connection_pool=pool)
        return found


def _pack(words: tuple[str | int | bytes, ...]) -> bytes:
    # hiredis's stub types `cmd` as a tuple of one element.
    return pack_command(words)  # type: ignore[arg-type]


async def _send_packed(redis: Redis, commands: list[bytes]) -> list[Any]:
    """Commands sent in one write on one connection, their replies read in order."""
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
