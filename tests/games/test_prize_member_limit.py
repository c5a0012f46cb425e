"""A coupon template's per_member_limit holds for prizes: a member at the limit gets a lose
on that prize, counted atomically in the draw script, also under parallel draws and with
coupons the member got elsewhere."""

from __future__ import annotations

import asyncio

from engagement.kit.state import Services
from games import tasks
from tests.factories import Factory


async def test_a_member_never_wins_more_than_the_templates_limit(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    limited = await factory.template(shop, stock=100, per_member_limit=1)
    campaign = await factory.campaign(shop, [
        {"name": "每人限一张", "kind": "coupon", "coupon_template_id": limited["id"],
         "quantity": 100, "weight": 1}])
    members = await factory.members_bulk(shop, 5)
    draws = await asyncio.gather(*[factory.draw(m, campaign["id"])
                                   for m in members for _ in range(6)])
    assert {r.status_code for r in draws} == {201}
    pool = services.pool
    per_member = await pool.fetch(
        "SELECT member_id, count(*) AS n FROM draws WHERE outcome = 'win' GROUP BY member_id")
    assert sorted(r["n"] for r in per_member) == [1] * 5
    await tasks.settle_draws({"services": services}, campaign["id"])
    assert await pool.fetchval(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM coupons GROUP BY member_id) c") == 1
    # The loses are honest loses: the prize still has its stock.
    detail = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}",
                                       headers=shop.headers)).json()
    assert detail["prizes"][0]["remaining"] == 95


async def test_coupons_held_before_the_first_draw_count(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    limited = await factory.template(shop, stock=100, per_member_limit=2)
    member = await factory.member(shop)
    # One coupon of it already in hand (given by hand at the till, say).
    await services.pool.execute(
        """INSERT INTO coupons (id, merchant_id, template_id, member_id, code, source)
           VALUES ('cpn_held', $1, $2, $3, 'HELDCODE0001', 'manual')""",
        shop.id, limited["id"], member.id)
    campaign = await factory.campaign(shop, [
        {"name": "限二张", "kind": "coupon", "coupon_template_id": limited["id"],
         "quantity": 50, "weight": 1}])
    outcomes = [(await factory.draw(member, campaign["id"])).json()["outcome"]
                for _ in range(4)]
    assert outcomes == ["win", "lose", "lose", "lose"]
