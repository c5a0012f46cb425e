"""The lottery's invariants with campaigns' hot state on a real 3-master Redis Cluster, two
web processes and two workers (tests/cluster/conftest.py): no oversell, limits across
processes, one draw per Idempotency-Key, campaigns spread over the masters, and the hot
state rebuilt from PostgreSQL when one node, or every node, loses its data; and the stock
reconciliation reading and repairing counters on the master that holds them (the
standalone cases are in tests/games/test_reconcile.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster

from engagement.kit.local_cluster import LocalCluster
from engagement.kit.state import Services
from games.draw.protocol import CampaignKeys
from games.reconcile.service import reconcile
from tests.cluster.conftest import Balanced, Deployment
from tests.factories import Factory

NOTHING = {"name": "谢谢参与", "kind": "nothing", "weight": 1}


async def _settled(services: Services, campaign_id: str) -> None:
    """Until the workers have settled every win of the campaign (a minute at most)."""
    deadline = time.monotonic() + 60
    while await services.pool.fetchval(
            "SELECT count(*) FROM draws WHERE campaign_id = $1 AND outcome = 'win' "
            "AND settled_at IS NULL", campaign_id):
        assert time.monotonic() < deadline, "the workers did not settle the wins"
        await asyncio.sleep(0.2)


def _owner(cluster: LocalCluster, campaign_id: str) -> int:
    """The port of the one master holding the campaign's keys (checked: no other has any),
    which is the master serving the slot CLUSTER KEYSLOT gives its hash tag."""
    tag = CampaignKeys.of(campaign_id).tag
    holders = [p for p in cluster.ports
               if list(cluster.node(p).scan_iter(match=f"{tag}:*", count=1000))]
    assert len(holders) == 1, holders
    slot = cluster.node(cluster.ports[0]).cluster("KEYSLOT", tag)
    assert cluster.node(holders[0]).cluster("COUNTKEYSINSLOT", slot) > 0
    return holders[0]


async def _counts(services: Services, campaign_id: str) -> dict[str, Any]:
    row = await services.pool.fetchrow(
        "SELECT count(*) AS draws, count(*) FILTER (WHERE outcome = 'win') AS wins, "
        "(SELECT count(*) FROM coupons c JOIN draws d ON d.id = c.draw_id "
        " WHERE d.campaign_id = $1) AS coupons FROM draws WHERE campaign_id = $1",
        campaign_id)
    return dict(row)


async def test_two_thousand_draws_from_five_hundred_members_give_exactly_fifty_wins(
        web: Balanced, made: Factory, services: Services) -> None:
    shop = await made.merchant()
    tpl = await made.template(shop, stock=80)
    campaign = await made.campaign(shop, [
        {"name": "免单券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 50,
         "weight": 80}, NOTHING])
    members = await made.members_bulk(shop, 500)
    responses = await asyncio.gather(*[web.draw(m, campaign["id"])
                                       for _ in range(4) for m in members])
    assert {r.status_code for r in responses} == {201}, responses[0].text
    assert [r.json()["outcome"] for r in responses].count("win") == 50
    await _settled(services, campaign["id"])
    assert await _counts(services, campaign["id"]) == {"draws": 2000, "wins": 50,
                                                       "coupons": 50}


async def test_a_limit_of_three_a_day_holds_across_processes(
        web: Balanced, made: Factory, services: Services) -> None:
    shop = await made.merchant()
    campaign = await made.campaign(shop, [NOTHING], limits={"per_member_per_day": 3})
    members = await made.members_bulk(shop, 10)
    responses = await asyncio.gather(*[web.draw(m, campaign["id"])
                                       for _ in range(15) for m in members])
    for member in members:
        mine = [r for r in responses if r.request.headers["authorization"].endswith(
            member.token)]
        assert sorted(r.status_code for r in mine) == [201] * 3 + [409] * 12
    assert (await _counts(services, campaign["id"]))["draws"] == 30


async def test_fifty_uses_of_one_idempotency_key_give_one_draw(
        web: Balanced, made: Factory, services: Services) -> None:
    shop = await made.merchant()
    tpl = await made.template(shop)
    campaign = await made.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 10,
         "weight": 1}, NOTHING])
    [member] = await made.members_bulk(shop, 1)
    responses = await asyncio.gather(*[web.draw(member, campaign["id"], key="tap-1")
                                       for _ in range(50)])
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert (await _counts(services, campaign["id"]))["draws"] == 1


async def test_the_keys_of_several_campaigns_sit_on_more_than_one_master(
        made: Factory, deployment: Deployment) -> None:
    shop = await made.merchant()
    owners: dict[str, int] = {}
    for _ in range(20):  # published (so primed) until two masters hold some: 3^-19 to fail
        campaign = await made.campaign(shop, [NOTHING])
        owners[campaign["id"]] = _owner(deployment.cluster, campaign["id"])
        if len(set(owners.values())) > 1 and len(owners) >= 4:
            break
    assert len(set(owners.values())) > 1, owners
    sizes = [deployment.cluster.node(p).dbsize() for p in deployment.cluster.ports]
    assert sum(1 for n in sizes if n) > 1, sizes
    # Nothing of the queue, sessions or throttles on the cluster: only campaigns' keys.
    for port in deployment.cluster.ports:
        assert all(key.startswith(b"{c:cmp_")
                   for key in deployment.cluster.node(port).scan_iter(count=1000))


async def test_the_same_key_after_every_node_is_flushed_answers_with_the_same_draw(
        web: Balanced, made: Factory, services: Services, deployment: Deployment) -> None:
    shop = await made.merchant()
    tpl = await made.template(shop)
    campaign = await made.campaign(shop, [
        {"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 10,
         "weight": 1}, NOTHING])
    [member] = await made.members_bulk(shop, 1)
    first = await web.draw(member, campaign["id"], key="tap-1")
    assert first.status_code == 201, first.text

    for port in deployment.cluster.ports:  # every node loses its keys and its scripts
        node = deployment.cluster.node(port)
        node.flushall()
        node.script_flush()
    replays = await asyncio.gather(*[web.draw(member, campaign["id"], key="tap-1")
                                     for _ in range(6)])  # through both processes
    assert {r.status_code for r in replays} == {201}
    assert all(r.json() == first.json() for r in replays)
    assert (await _counts(services, campaign["id"]))["draws"] == 1
    fresh = await web.draw(member, campaign["id"], key="tap-2")
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]


async def test_one_node_losing_its_data_re_primes_its_campaigns_alone(
        web: Balanced, made: Factory, services: Services, deployment: Deployment) -> None:
    cluster = deployment.cluster
    shop = await made.merchant()
    tpl = await made.template(shop, stock=100)
    prizes = [{"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"],
               "quantity": 12, "weight": 1}, NOTHING]
    campaigns: dict[int, str] = {}
    while len(campaigns) < 2:  # two campaigns on two different masters
        campaign = await made.campaign(shop, prizes, limits={"per_member_per_day": 3})
        campaigns.setdefault(_owner(cluster, campaign["id"]), campaign["id"])
    (lost_port, lost), (kept_port, kept) = campaigns.items()
    members = await made.members_bulk(shop, 8)
    before = await asyncio.gather(*[web.draw(m, c) for c in (lost, kept)
                                    for m in members for _ in range(2)])
    assert {r.status_code for r in before} == {201}

    node = cluster.node(lost_port)
    node.flushall()
    node.script_flush()
    assert cluster.node(kept_port).exists(f"{CampaignKeys.of(kept).tag}:meta")
    after = await asyncio.gather(*[web.draw(m, c) for c in (lost, kept)
                                   for m in members for _ in range(4)])
    # The day's count of each member came back from PostgreSQL: one draw left each.
    assert sorted(r.status_code for r in after) == [201] * 16 + [409] * 48
    for campaign_id, port in ((lost, lost_port), (kept, kept_port)):
        counts = await _counts(services, campaign_id)
        assert counts["draws"] == 24 and counts["wins"] <= 12
        meta = cluster.node(port).hgetall(f"{CampaignKeys.of(campaign_id).tag}:meta")
        wins = cluster.node(port).hgetall(f"{CampaignKeys.of(campaign_id).tag}:wins")
        assert sum(int(v) for v in wins.values()) == counts["wins"]
        # Only the flushed node's campaign was re-primed (and asks PostgreSQL about keys).
        assert (b"recovered_ms" in meta) is (campaign_id == lost)
    for campaign_id in (lost, kept):
        await _settled(services, campaign_id)
        counts = await _counts(services, campaign_id)
        assert counts["coupons"] == counts["wins"]


@pytest.fixture
async def on_cluster(services: Services, deployment: Deployment) -> AsyncIterator[Services]:
    """The tests' services with the hot state on the cluster, as a worker has them."""
    cluster = RedisCluster.from_url(deployment.cluster.url)
    await cluster.initialize()
    svc = Services(settings=services.settings.model_copy(update={
        "redis_cluster_url": deployment.cluster.url, "reconcile_grace_seconds": 0.05}),
        pool=services.pool, redis=services.redis, clock=services.clock,
        secret_key=services.secret_key, cluster=cluster)
    try:
        yield svc
    finally:
        await svc.close_helpers()
        await cluster.aclose()


async def test_reconciliation_repairs_and_flags_counters_on_the_cluster(
        web: Balanced, made: Factory, on_cluster: Services, deployment: Deployment) -> None:
    shop = await made.merchant()
    template = await made.template(shop, stock=20)
    campaign = await made.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": 20, "weight": 1}])
    campaign_id, prize_id = campaign["id"], campaign["prizes"][0]["id"]
    members = await made.members_bulk(shop, 6)
    drawn = await asyncio.gather(*[web.draw(m, campaign_id) for m in members])
    assert [r.json()["outcome"] for r in drawn] == ["win"] * 6
    clean = await reconcile(on_cluster)
    assert (clean.campaigns, clean.repaired, clean.flagged) == (1, 0, 0)

    node = deployment.cluster.node(_owner(deployment.cluster, campaign_id))
    wins = CampaignKeys.of(campaign_id).wins
    node.hset(wins, prize_id, 2)  # behind the service's back, on the master holding it
    repaired = await reconcile(on_cluster)
    assert (repaired.repaired, repaired.flagged) == (1, 0)
    assert int(node.hget(wins, prize_id)) == 6

    node.hincrby(wins, prize_id, 3)  # ahead of PostgreSQL: flagged, never lowered
    flagged = await reconcile(on_cluster)
    assert (flagged.repaired, flagged.flagged) == (0, 1)
    assert int(node.hget(wins, prize_id)) == 9
