"""Coupon templates, redemption at the till, expiry."""

from __future__ import annotations

import asyncio

from engagement.coupons import tasks
from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.worker import drain


async def _won_coupon(factory: Factory, settings: Settings, clock: FrozenClock,
                      valid_days: int = 30) -> tuple[MerchantHandle, MemberHandle, dict, dict]:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=5, valid_days=valid_days)
    campaign = await factory.campaign(shop, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 5,
         "weight": 1}])
    member = await factory.member(shop)
    await factory.draw(member, campaign["id"])
    await drain(settings, clock)
    coupons = (await factory.client.get("/api/v1/me/coupons", headers=member.headers)).json()
    return shop, member, campaign, coupons["items"][0]


async def test_template_counters_and_validation(factory: Factory) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, name="八折券", discount={"type": "percent_off",
                                                              "percent": 20},
                                 stock=None, min_spend=5000)
    assert tpl["stock"] is None and tpl["available"] is None
    assert (tpl["reserved"], tpl["issued"], tpl["redeemed"]) == (0, 0, 0)
    for body in [{"name": "x", "discount": {"type": "amount_off", "amount": 0}, "stock": 1},
                 {"name": "x", "discount": {"type": "bogus"}, "stock": 1},
                 {"name": "x", "discount": {"type": "gift", "description": "咖啡"},
                  "stock": -1}]:
        r = await factory.client.post("/api/v1/coupon-templates", json=body,
                                      headers=shop.headers)
        assert r.status_code == 422, body
    other = await factory.merchant("Other")
    r = await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                 headers=other.headers)
    assert r.status_code == 404


async def test_redeem_once_then_409(factory: Factory, settings: Settings,
                                    clock: FrozenClock) -> None:
    shop, member, campaign, coupon = await _won_coupon(factory, settings, clock)
    assert coupon["status"] == "issued" and len(coupon["code"]) == 12
    url = f"/api/v1/coupons/{coupon['code']}/redeem"
    results = await asyncio.gather(*[
        factory.client.post(url, json={"order_id": "o-1"}, headers=shop.headers)
        for _ in range(10)])
    assert sorted(r.status_code for r in results) == [200] + [409] * 9
    ok = next(r for r in results if r.status_code == 200).json()
    assert ok["status"] == "redeemed" and ok["order_id"] == "o-1"
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "coupon_already_redeemed"}
    mine = (await factory.client.get("/api/v1/me/coupons", headers=member.headers)).json()
    assert mine["items"][0]["status"] == "redeemed"
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["coupons_redeemed"] == 1
    tpl = (await factory.client.get(f"/api/v1/coupon-templates/{coupon['template_id']}",
                                    headers=shop.headers)).json()
    assert (tpl["issued"], tpl["redeemed"]) == (1, 1)


async def test_unknown_or_foreign_code_is_404(factory: Factory, settings: Settings,
                                              clock: FrozenClock) -> None:
    _, _, _, coupon = await _won_coupon(factory, settings, clock)
    other = await factory.merchant("Other")
    r = await factory.client.post(f"/api/v1/coupons/{coupon['code']}/redeem", json={},
                                  headers=other.headers)
    assert r.status_code == 404
    r = await factory.client.post("/api/v1/coupons/NOPE/redeem", json={}, headers=other.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_expired_coupon_is_409_and_the_job_marks_it(
        factory: Factory, services: Services, settings: Settings, clock: FrozenClock) -> None:
    shop, member, _, coupon = await _won_coupon(factory, settings, clock, valid_days=7)
    clock.advance(days=7, seconds=1)
    r = await factory.client.post(f"/api/v1/coupons/{coupon['code']}/redeem", json={},
                                  headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "coupon_expired"
    assert await tasks.expire_due({"services": services}) == 1
    assert await tasks.expire_due({"services": services}) == 0
    mine = (await factory.client.get("/api/v1/me/coupons", headers=member.headers)).json()
    assert mine["items"][0]["status"] == "expired"
