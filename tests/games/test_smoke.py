from __future__ import annotations

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from tests.factories import Factory
from tests.worker import drain

JSON = {"Content-Type": "application/json"}


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


async def test_points_prize_is_credited_once(factory: Factory, settings: Settings,
                                             clock: FrozenClock) -> None:
    from games import tasks

    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [
        {"name": "88积分", "kind": "points", "points": 88, "quantity": 10, "weight": 1}])
    member = await factory.member(shop)
    r = await factory.draw(member, campaign["id"])
    assert r.json()["outcome"] == "win" and r.json()["prize"]["kind"] == "points"
    await drain(settings, clock)
    services = factory.services
    # A re-run (arq delivers at least once) changes nothing.
    assert await tasks.settle_draws({"services": services}, campaign["id"]) == 0
    me = (await factory.client.get("/api/v1/me", headers=member.headers)).json()
    assert me["points"] == 88
    ledger = await services.pool.fetch(
        "SELECT delta, reason FROM points_ledger WHERE member_id = $1", member.id)
    assert [(r["delta"], r["reason"]) for r in ledger] == [(88, "draw_prize")]
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["unsettled"] == 0 and stats["coupons_issued"] == 0


async def test_bad_draw_requests_get_a_coded_4xx_and_change_nothing(factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [
        {"name": "88积分", "kind": "points", "points": 88, "quantity": 10, "weight": 1}])
    member = await factory.member(shop)
    url = f"/api/v1/campaigns/{campaign['id']}/draws"
    bad = [
        ({"content": b"{not json", "headers": JSON}, 422, "validation_error"),
        ({"content": b"{}"}, 415, "unsupported_media_type"),  # no Content-Type
        ({"content": b"{}", "headers": {"Content-Type": "text/plain"}}, 415,
         "unsupported_media_type"),
        ({"content": b"[" * 4000, "headers": JSON}, 422, "validation_error"),  # too deep
        ({"json": [1, 2]}, 422, "validation_error"),
        ({"content": b"{}" + b" " * 5000}, 413, "payload_too_large"),
        ({"headers": {"Idempotency-Key": "x" * 256}}, 422, "validation_error"),
        ({"headers": {"Idempotency-Key": "tab\there"}}, 422, "validation_error"),
    ]
    for extra, status, code in bad:
        headers = {**member.headers, **extra.pop("headers", {})}
        r = await factory.client.post(url, headers=headers, **extra)  # type: ignore[arg-type]
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
        assert r.headers["x-request-id"].startswith("req_")
    stats = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}/stats",
                                      headers=shop.headers)).json()
    assert stats["draws"] == 0 and stats["players"] == 0
    # A body that is a JSON object is fine, and so is none at all.
    for extra in ({"json": {"source": "poster"}}, {}):
        r = await factory.client.post(url, headers=member.headers, **extra)  # type: ignore[arg-type]
        assert r.status_code == 201 and r.headers["content-type"] == "application/json", r.text
        assert int(r.headers["content-length"]) == len(r.content)
