"""Provably fair draws, checked the way an outsider would: from public data only (each
member's own draws from GET /api/v1/me/draws, and the campaign's public fairness record),
with this file's own HMAC written from API.md's formula. Nothing of games.draw.fairness is
imported here, so a pick that drifted from the contract fails."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from typing import Any

from engagement.kit.state import Services
from tests.factories import Factory, MemberHandle

N_MEMBERS = 500
DRAWS_EACH = 20  # the burst guard's default allowance in its window: 10,000 draws in all
LIMITED_QUANTITY = 5


def contract_pick(seed: bytes, client_seed: str, nonce: str, prizes: list[dict[str, Any]]
                  ) -> str:
    """API.md: r = int(hex(HMAC-SHA256(key=seed, msg=f"{client_seed}:{nonce}"))[:16], 16)
    mod total_weight; the first prize whose running sum of weights exceeds r."""
    mac = hmac.new(seed, f"{client_seed}:{nonce}".encode(), hashlib.sha256).hexdigest()
    r = int(mac[:16], 16) % sum(p["weight"] for p in prizes)
    running = 0
    for p in prizes:
        running += p["weight"]
        if running > r:
            return str(p["id"])
    raise AssertionError("no prize picked")


async def _draw(factory: Factory, member: MemberHandle, campaign_id: str, i: int) -> None:
    headers = dict(member.headers)
    body: dict[str, str] | None = None
    if i % 2 == 0:  # half as the game page draws: a client seed, the key as nonce
        headers["Idempotency-Key"] = str(uuid.uuid4())
        body = {"client_seed": secrets.token_hex(16)}
    elif i % 4 == 1:  # a key but no client seed: the draw id and an empty nonce
        headers["Idempotency-Key"] = str(uuid.uuid4())
    r = await factory.client.post(f"/api/v1/campaigns/{campaign_id}/draws", json=body,
                                  headers=headers)
    assert r.status_code == 201, r.text


async def _my_draws(factory: Factory, member: MemberHandle) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        r = await factory.client.get("/api/v1/me/draws", params=params, headers=member.headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def test_ten_thousand_draws_of_an_ended_campaign_recompute_from_public_data(
        factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [
        {"name": "限量大奖", "kind": "points", "points": 500, "quantity": LIMITED_QUANTITY,
         "weight": 3},
        {"name": "50积分", "kind": "points", "points": 50, "quantity": None, "weight": 20},
        {"name": "5积分", "kind": "points", "points": 5, "quantity": None, "weight": 77},
        {"name": "谢谢参与", "kind": "nothing", "weight": 400}])
    cid = campaign["id"]
    commitment = campaign["fairness"]["commitment"]
    assert len(commitment) == 64 and int(commitment, 16) >= 0
    public = (await factory.client.get(f"/api/v1/campaigns/{cid}/fairness")).json()
    assert public["commitment"] == commitment and public["server_seed"] is None

    members = await factory.members_bulk(shop, N_MEMBERS)
    gate = asyncio.Semaphore(50)

    async def play(member: MemberHandle, i: int) -> None:
        async with gate:
            await _draw(factory, member, cid, i)

    await asyncio.gather(*(play(m, i) for m in members for i in range(DRAWS_EACH)))
    draws = [d for m in members for d in await _my_draws(factory, m)]
    assert len(draws) == N_MEMBERS * DRAWS_EACH

    # Before the end the seed stays secret; the commitment is the one from publish.
    mid = (await factory.client.get(f"/api/v1/campaigns/{cid}/fairness")).json()
    assert mid["server_seed"] is None and mid["commitment"] == commitment
    r = await factory.client.post(f"/api/v1/campaigns/{cid}/end", headers=shop.headers)
    assert r.status_code == 200 and r.json()["fairness"]["commitment"] == commitment
    ended = (await factory.client.get(f"/api/v1/campaigns/{cid}/fairness")).json()
    assert ended["commitment"] == commitment
    seed = bytes.fromhex(ended["server_seed"])
    assert hashlib.sha256(seed).hexdigest() == commitment

    prizes = ended["prizes"]
    assert [p["id"] for p in prizes] == [p["id"] for p in campaign["prizes"]]
    limited = prizes[0]["id"]
    nothing = prizes[-1]["id"]
    limited_picks = limited_wins = 0
    for d in draws:
        fair = d["fairness"]
        if fair["nonce"] == "":
            assert fair["client_seed"] == d["id"]  # no client seed: the draw's id
        picked = contract_pick(seed, fair["client_seed"], fair["nonce"], prizes)
        if picked == limited:
            limited_picks += 1
            if d["outcome"] == "win":
                limited_wins += 1
                assert d["prize"]["id"] == limited
            else:  # picked after it ran out: a lose, as the contract says
                assert d["prize"] is None
            continue
        if picked == nothing:
            assert d["outcome"] == "lose" and d["segment_id"] == nothing, d
        else:
            assert d["outcome"] == "win" and d["prize"]["id"] == picked, d
        assert d["pity"] is False
    # About 60 of 10,000 picks land on the limited prize: exactly its quantity won.
    assert limited_picks > LIMITED_QUANTITY
    assert limited_wins == LIMITED_QUANTITY


async def test_a_client_seed_needs_a_nonce_and_a_sane_length(factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing",
                                              "weight": 1}])
    member = await factory.member(shop)
    url = f"/api/v1/campaigns/{campaign['id']}/draws"
    r = await factory.client.post(url, json={"client_seed": "abc"}, headers=member.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "nonce_required"
    for bad in ("", "x" * 65, 42, "a\tb"):
        r = await factory.client.post(url, json={"client_seed": bad},
                                      headers={**member.headers, "Idempotency-Key": "k1"})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "validation_error"
    assert (await _my_draws(factory, member)) == []  # refused draws changed nothing
    r = await factory.client.post(url, json={"client_seed": "我的种子 1"},
                                  headers={**member.headers, "Idempotency-Key": "k2"})
    assert r.status_code == 201
    assert r.json()["fairness"] == {"client_seed": "我的种子 1", "nonce": "k2"}


async def test_a_drafts_fairness_is_not_public_and_the_seed_is_fixed_at_publish(
        factory: Factory) -> None:
    shop = await factory.merchant()
    draft = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing",
                                           "weight": 1}], publish=False)
    assert draft["fairness"] == {"commitment": None}
    r = await factory.client.get(f"/api/v1/campaigns/{draft['id']}/fairness")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    url = f"/api/v1/campaigns/{draft['id']}"
    published = (await factory.client.post(f"{url}/publish", headers=shop.headers)).json()
    commitment = published["fairness"]["commitment"]
    for action in ("pause", "resume"):
        r = await factory.client.post(f"{url}/{action}", headers=shop.headers)
        assert r.json()["fairness"]["commitment"] == commitment


async def test_a_campaign_published_before_fairness_commits_before_its_next_draw(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [{"name": "谢谢参与", "kind": "nothing",
                                              "weight": 1}])
    cid = campaign["id"]
    # As migration 0017 left the campaigns that were live then: no seed, no commitment.
    await services.pool.execute(
        "UPDATE campaigns SET server_seed = NULL, commitment = NULL WHERE id = $1", cid)
    page = await factory.client.get(f"/play/{cid}")
    commitment = await services.pool.fetchval(
        "SELECT commitment FROM campaigns WHERE id = $1", cid)
    assert commitment and f"data-commitment>{commitment}</code>" in page.text
    member = await factory.member(shop)
    assert (await factory.draw(member, cid)).status_code == 201
    assert await services.pool.fetchval(
        "SELECT commitment FROM campaigns WHERE id = $1", cid) == commitment
