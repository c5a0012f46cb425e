"""Batches of commands on a real Redis Cluster: one write per node, a command sent to a node
that does not hold its slot still lands, a node that lost its scripts gets them again
without the calls of the other nodes running twice, and a node that is down fails only its
own commands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError

from engagement.kit.hot_redis import PackedSender
from engagement.kit.local_cluster import LocalCluster
from games.draw.scripts import _PipelinedEvalsha


@pytest.fixture
async def cluster(local_cluster: LocalCluster) -> AsyncIterator[RedisCluster]:
    client = RedisCluster.from_url(local_cluster.url)
    await client.initialize()
    try:
        yield client
    finally:
        await client.aclose()


def _tagged(cluster: RedisCluster, test: str, n: int) -> list[str]:
    """n keys of distinct hash tags, spread over every master."""
    keys = [f"{{t:{test}:{i}}}:k" for i in range(n)]
    assert len({cluster.get_node_from_key(k).name for k in keys}) == 3  # type: ignore[union-attr]
    return keys


async def test_a_batch_goes_to_each_node_and_a_misrouted_command_still_lands(
        cluster: RedisCluster, local_cluster: LocalCluster) -> None:
    keys = _tagged(cluster, "route", 30)
    sender = PackedSender(cluster)
    try:
        assert await sender.send([(k, ("SET", k, "1")) for k in keys]) == [b"OK"] * 30
        for k in keys:
            assert await cluster.get(k) == b"1"
        assert len(sender._nodes) == 3  # one write (and one connection) per master
        # Routed by a key of another node: that node answers MOVED, the command is sent
        # again through the cluster client, which follows the redirection.
        a, b = next((x, y) for x in keys for y in keys if cluster.get_node_from_key(x)
                    != cluster.get_node_from_key(y))
        [reply] = await sender.send([(a, ("SET", b, "moved"))])
        assert reply in (True, b"OK")
        assert await cluster.get(b) == b"moved"
        assert await cluster.get(a) == b"1"
    finally:
        await sender.aclose()
        await cluster.delete(*keys)


async def test_a_node_without_the_script_loads_it_and_only_its_calls_run_again(
        cluster: RedisCluster, local_cluster: LocalCluster) -> None:
    keys = _tagged(cluster, "noscript", 30)
    sender = PackedSender(cluster)
    script = AsyncScript(cluster, "return redis.call('INCR', KEYS[1])")  # type: ignore[arg-type]
    batch = _PipelinedEvalsha(sender, script)
    try:
        await cluster.script_load(script.script)
        # One master forgets every script, as a restarted node would.
        local_cluster.node(local_cluster.ports[1]).script_flush()
        assert await batch([([k], []) for k in keys]) == [1] * 30
        assert [int(await cluster.get(k) or 0) for k in keys] == [1] * 30  # once each
        assert await batch([([k], []) for k in keys]) == [2] * 30
    finally:
        await sender.aclose()
        await cluster.delete(*keys)


async def test_a_node_that_cannot_be_reached_fails_only_its_own_commands() -> None:
    with LocalCluster(masters=3) as own:  # this one loses a node
        client = RedisCluster.from_url(own.url)
        await client.initialize()
        sender = PackedSender(client)
        try:
            keys = _tagged(client, "down", 30)
            assert await sender.send([(k, ("SET", k, "1")) for k in keys]) == [b"OK"] * 30
            down = own.ports[2]
            own.kill(down)
            replies = await sender.send([(k, ("GET", k)) for k in keys])
            for key, reply in zip(keys, replies, strict=True):
                node = client.get_node_from_key(key)
                assert node is not None
                if node.port == down:
                    assert isinstance(reply, ConnectionError), reply
                else:
                    assert reply == b"1"
        finally:
            await sender.aclose()
            await client.aclose()
