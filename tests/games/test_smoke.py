from __future__ import annotations

from engagement.clock import FrozenClock
from engagement.config import Settings
from tests.factories import Factory
from tests.games.helpers import drain


async def test_draw_win_settles_into_a_coupon(factory: Factory, settings: Settings,
                                              clock: FrozenClock) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=10)
    campaign = await factory.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 5,
         "weight": 1}])
    member = await factory.member(shop)
    r = await factory.draw(member, campaign["id"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "win" and body["prize"]["name"] == "10元券"
    await drain(settings, clock)
    coupons = (await factory.client.get("/api/v1/me/coupons", headers=member.headers)).json()
    assert len(coupons["items"]) == 1 and coupons["items"][0]["draw_id"] == body["id"]
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats == {"draws": 1, "players": 1, "wins": {campaign["prizes"][0]["id"]: 1},
                     "coupons_issued": 1, "coupons_redeemed": 0, "unsettled": 0}
