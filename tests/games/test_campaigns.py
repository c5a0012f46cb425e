"""Campaign lifecycle, inventory reservation, live-edit rules, windows, tenant isolation."""

from __future__ import annotations

from datetime import timedelta

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from games import tasks
from tests.factories import Factory
from tests.worker import drain


def _coupon(tpl: dict[str, object], quantity: int | None = 10, weight: int = 1,
            name: str = "10元券") -> dict[str, object]:
    return {"name": name, "kind": "coupon", "coupon_template_id": tpl["id"],
            "quantity": quantity, "weight": weight}


NOTHING = {"name": "谢谢参与", "kind": "nothing", "weight": 1}


async def test_campaign_resource_shows_odds_and_play_url(factory: Factory) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop)
    campaign = await factory.campaign(shop, [
        _coupon(tpl, 10, 1), {"name": "50积分", "kind": "points", "points": 50,
                              "quantity": 100, "weight": 3}, {**NOTHING, "weight": 4}],
        publish=False)
    assert campaign["status"] == "draft"
    assert campaign["play_url"] == f"http://testserver/play/{campaign['id']}"
    assert [p["probability"] for p in campaign["prizes"]] == [0.125, 0.375, 0.5]
    assert [p["remaining"] for p in campaign["prizes"]] == [10, 100, None]
    r = await factory.client.get(f"/api/v1/campaigns/{campaign['id']}", headers=shop.headers)
    assert r.json() == campaign


async def test_publish_reserves_inventory_or_refuses_with_409(factory: Factory) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=15)
    first = await factory.campaign(shop, [_coupon(tpl, 10)])
    assert first["status"] == "active"
    template = (await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                         headers=shop.headers)).json()
    assert (template["reserved"], template["available"]) == (10, 5)
    second = await factory.campaign(shop, [_coupon(tpl, 6)], publish=False)
    r = await factory.client.post(f"/api/v1/campaigns/{second['id']}/publish",
                                  headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_inventory"
    again = (await factory.client.get(f"/api/v1/campaigns/{second['id']}",
                                      headers=shop.headers)).json()
    assert again["status"] == "draft"
    template = (await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                         headers=shop.headers)).json()
    assert template["reserved"] == 10
    r = await factory.client.post(f"/api/v1/campaigns/{first['id']}/publish",
                                  headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_status_transition"


async def test_live_campaign_cannot_be_changed_against_members(
        factory: Factory, settings: Settings, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=20)
    campaign = await factory.campaign(shop, [_coupon(tpl, 3, weight=1000), NOTHING])
    prize = campaign["prizes"][0]["id"]
    members = await factory.members_bulk(shop, 2)
    for m in members:
        await factory.draw(m, campaign["id"])
    url = f"/api/v1/campaigns/{campaign['id']}"
    stats = (await factory.client.get(f"{url}/stats", headers=shop.headers)).json()
    won = stats["wins"][prize]
    assert won >= 1

    r = await factory.client.patch(url, json={"prizes": [{"id": prize, "weight": 5}]},
                                   headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_live_locked"
    # Fewer prizes than published, even above what was won, is against members (API.md,
    # second part: only more quantity and a later end).
    for quantity in (won - 1, 3 - 1):
        r = await factory.client.patch(url, json={"prizes": [{"id": prize,
                                                              "quantity": quantity}]},
                                       headers=shop.headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_live_locked"
    r = await factory.client.patch(url, json={"rules": "新规则：每人只能中一次"},
                                   headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_live_locked"
    r = await factory.client.patch(url, json={"rules": ""}, headers=shop.headers)
    assert r.status_code == 200, r.text  # the same rules again are no change
    r = await factory.client.patch(url, json={"prizes": [{"id": prize, "quantity": 30}]},
                                   headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_inventory"
    r = await factory.client.patch(url, json={"prizes": [{"id": prize, "quantity": 8}]},
                                   headers=shop.headers)
    assert r.status_code == 200, r.text
    assert r.json()["prizes"][0]["quantity"] == 8
    assert r.json()["prizes"][0]["remaining"] == 8 - won
    template = (await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                         headers=shop.headers)).json()
    assert template["reserved"] == 8
    # The added stock is live at once: the 8 are won, never a 9th.
    more = await factory.members_bulk(shop, 12)
    for m in more:
        await factory.draw(m, campaign["id"])
    await drain(settings, clock)
    final = (await factory.client.get(url, headers=shop.headers)).json()
    assert final["prizes"][0]["remaining"] == 0
    template = (await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                         headers=shop.headers)).json()
    assert (template["issued"], template["reserved"]) == (8, 0)


async def test_pause_resume_end_and_release_of_unwon_stock(
        factory: Factory, services: Services, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=10)
    campaign = await factory.campaign(shop, [_coupon(tpl, 10, weight=1), {**NOTHING,
                                                                         "weight": 1000}])
    member = await factory.member(shop)
    url = f"/api/v1/campaigns/{campaign['id']}"
    assert (await factory.client.post(f"{url}/pause", headers=shop.headers)).json()[
        "status"] == "paused"
    r = await factory.draw(member, campaign["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_active"
    assert (await factory.client.post(f"{url}/resume", headers=shop.headers)).status_code == 200
    assert (await factory.draw(member, campaign["id"])).status_code == 201
    ended = (await factory.client.post(f"{url}/end", headers=shop.headers)).json()
    assert ended["status"] == "ended" and ended["ended_at"]
    r = await factory.draw(member, campaign["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_active"
    r = await factory.client.post(f"{url}/resume", headers=shop.headers)
    assert r.status_code == 409
    r = await factory.client.patch(url, json={"name": "x"}, headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_ended"
    clock.advance(minutes=1)
    await tasks.sweep({"services": services})
    template = (await factory.client.get(f"/api/v1/coupon-templates/{tpl['id']}",
                                         headers=shop.headers)).json()
    wins = await services.pool.fetchval("SELECT count(*) FROM draws WHERE outcome = 'win'")
    assert template["reserved"] == wins  # only what was won and not yet issued stays held
    assert template["available"] == 10 - wins


async def test_window_is_enforced_and_a_past_end_closes_the_campaign(
        factory: Factory, services: Services, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    start = clock.now() + timedelta(hours=1)
    campaign = await factory.campaign(shop, [NOTHING], starts_at=start.isoformat(),
                                      ends_at=(start + timedelta(hours=2)).isoformat())
    member = await factory.member(shop)
    r = await factory.draw(member, campaign["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_active"
    clock.advance(hours=1)
    assert (await factory.draw(member, campaign["id"])).status_code == 201
    clock.advance(hours=2)
    assert (await factory.draw(member, campaign["id"])).status_code == 409
    result = await tasks.sweep({"services": services})
    assert result["ended"] == 1
    got = (await factory.client.get(f"/api/v1/campaigns/{campaign['id']}",
                                    headers=shop.headers)).json()
    assert got["status"] == "ended"


async def test_draft_cannot_be_drawn_and_bad_campaigns_are_422(factory: Factory) -> None:
    shop = await factory.merchant()
    tpl = await factory.template(shop, stock=5)
    draft = await factory.campaign(shop, [NOTHING], publish=False)
    member = await factory.member(shop)
    r = await factory.draw(member, draft["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_not_active"
    bad = [
        ({"name": "x", "game": "slots", "prizes": [NOTHING]}, "validation_error"),
        ({"name": "x", "game": "wheel", "prizes": []}, "validation_error"),
        ({"name": "x", "game": "wheel", "prizes": [{**NOTHING, "weight": 0}]},
         "validation_error"),
        ({"name": "x", "game": "wheel", "prizes": [_coupon({"id": "tpl_nope"})]},
         "invalid_prize"),
        ({"name": "x", "game": "wheel", "prizes": [_coupon(tpl, None)]}, "invalid_prize"),
        ({"name": "x", "game": "egg", "starts_at": "2026-12-01T00:00:00",
          "prizes": [NOTHING]}, "validation_error"),
    ]
    for body, code in bad:
        r = await factory.client.post("/api/v1/campaigns", json=body, headers=shop.headers)
        assert r.status_code == 422, body
        assert r.json()["error"]["code"] == code, body
    count = await factory.services.pool.fetchval("SELECT count(*) FROM campaigns")
    assert count == 1


async def test_other_merchants_cannot_see_or_draw(factory: Factory) -> None:
    shop, other = await factory.merchant("A"), await factory.merchant("B")
    campaign = await factory.campaign(shop, [NOTHING])
    stranger = await factory.member(other)
    url = f"/api/v1/campaigns/{campaign['id']}"
    for method, path in [("GET", url), ("GET", f"{url}/stats"), ("POST", f"{url}/pause"),
                         ("PATCH", url)]:
        r = await factory.client.request(method, path, headers=other.headers,
                                         json={} if method == "PATCH" else None)
        assert r.status_code == 404, (method, path)
    r = await factory.draw(stranger, campaign["id"])
    assert r.status_code == 404
    member = await factory.member(shop)
    r = await factory.client.get(url, headers=member.headers)
    assert r.status_code == 403
    assert (await factory.draw(member, campaign["id"])).status_code == 201


async def test_my_draws_lists_results_newest_first(factory: Factory) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [NOTHING])
    member = await factory.member(shop)
    made = [(await factory.draw(member, campaign["id"])).json() for _ in range(3)]
    page = (await factory.client.get("/api/v1/me/draws?limit=2",
                                     headers=member.headers)).json()
    assert [d["id"] for d in page["items"]] == [made[2]["id"], made[1]["id"]]
    rest = (await factory.client.get(f"/api/v1/me/draws?cursor={page['next_cursor']}",
                                     headers=member.headers)).json()
    assert [d["id"] for d in rest["items"]] == [made[0]["id"]]
    assert rest["next_cursor"] is None


async def test_a_live_campaigns_end_only_moves_later_also_when_it_had_none(
        factory: Factory, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [NOTHING])  # live, no end
    url = f"/api/v1/campaigns/{campaign['id']}"
    member = await factory.member(shop)
    for when in (clock.now() - timedelta(days=1), clock.now()):
        r = await factory.client.patch(url, json={"ends_at": when.isoformat()},
                                       headers=shop.headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_live_locked"
    got = (await factory.client.get(url, headers=shop.headers)).json()
    assert got["ends_at"] is None and got["status"] == "active"
    assert (await factory.draw(member, campaign["id"])).status_code == 201
    later = clock.now() + timedelta(days=7)
    r = await factory.client.patch(url, json={"ends_at": later.isoformat()},
                                   headers=shop.headers)
    assert r.status_code == 200
    r = await factory.client.patch(url, json={"ends_at": (later - timedelta(days=1)).isoformat()},
                                   headers=shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_live_locked"
    r = await factory.client.patch(url, json={"ends_at": (later + timedelta(days=1)).isoformat()},
                                   headers=shop.headers)
    assert r.status_code == 200


async def test_no_prize_may_be_worth_more_than_fifty_thousand_yuan(
        factory: Factory, services: Services) -> None:
    from engagement.coupons import service as coupons
    from engagement.coupons.schemas import TemplateUpdate
    from engagement.kit.db import transaction

    shop = await factory.merchant()
    over = await factory.template(shop, discount={"type": "amount_off", "amount": 5_000_001})
    r = await factory.client.post("/api/v1/campaigns", headers=shop.headers, json={
        "name": "豪华大奖", "game": "wheel", "prizes": [_coupon(over), NOTHING]})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "prize_value_over_cap"
    assert r.json()["error"]["details"]["fields"] == [{"field": "prizes.0.coupon_template_id"}]
    assert await services.pool.fetchval("SELECT count(*) FROM campaigns") == 0
    at_cap = await factory.template(shop, discount={"type": "amount_off", "amount": 5_000_000})
    draft = await factory.campaign(shop, [_coupon(at_cap), NOTHING], publish=False)
    # The draft's template is raised past the cap before publishing: publishing refuses.
    async with transaction(services.pool) as conn:
        await coupons.update_template(conn, shop.id, at_cap["id"], TemplateUpdate.model_validate(
            {"discount": {"type": "amount_off", "amount": 5_000_100}}))
    r = await factory.client.post(f"/api/v1/campaigns/{draft['id']}/publish",
                                  headers=shop.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "prize_value_over_cap"
    assert (await factory.client.get(f"/api/v1/coupon-templates/{at_cap['id']}",
                                     headers=shop.headers)).json()["reserved"] == 0


async def test_a_points_prize_is_capped_at_the_merchants_point_value(
        factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    big = {"name": "百万积分", "kind": "points", "points": 6_000_000, "quantity": 1, "weight": 1}
    # No point value said: points have no face value, so no cap.
    uncapped = await factory.campaign(shop, [big, NOTHING], publish=False)
    program = {"earn": {"per_amount": 100, "points": 1}, "join_bonus": 0, "expiry_days": None,
               "point_value": {"points": 100, "cents": 100}}  # a point is a fen
    r = await factory.client.put("/api/v1/points-program", json=program, headers=shop.headers)
    assert r.status_code == 200 and r.json()["point_value"] == {"points": 100, "cents": 100}
    r = await factory.client.post("/api/v1/campaigns", headers=shop.headers, json={
        "name": "积分大奖", "game": "wheel", "prizes": [NOTHING, big]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "prize_value_over_cap"
    assert r.json()["error"]["details"]["fields"] == [{"field": "prizes.1.points"}]
    assert r.json()["error"]["details"]["value"] == 6_000_000
    at_cap = {**big, "points": 5_000_000}
    assert (await factory.client.post("/api/v1/campaigns", headers=shop.headers, json={
        "name": "积分大奖", "game": "wheel", "prizes": [at_cap, NOTHING]})).status_code == 201
    # The draft made before the point value was said cannot be published past the cap.
    r = await factory.client.post(f"/api/v1/campaigns/{uncapped['id']}/publish",
                                  headers=shop.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "prize_value_over_cap"
    assert (await factory.client.get(f"/api/v1/campaigns/{uncapped['id']}",
                                     headers=shop.headers)).json()["status"] == "draft"
    bad = await factory.client.put("/api/v1/points-program", headers=shop.headers,
                                   json={**program, "point_value": {"points": 0, "cents": 1}})
    assert bad.status_code == 422
