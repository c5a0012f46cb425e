"""The campaign builder, the lifecycle buttons and the live dashboard, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from games.campaigns import builder, dashboard
from tests.console.helpers import Console
from tests.factories import Factory
from tests.worker import drain


def _form(template_id: str, **extra: str) -> dict[str, str]:
    return {"name": "双十二大转盘", "game": "wheel", "per_member_per_day": "3",
            "prize-0-kind": "coupon", "prize-0-name": "10元券", "prize-0-template": template_id,
            "prize-0-quantity": "50", "prize-0-weight": "20",
            "prize-1-kind": "points", "prize-1-name": "88积分", "prize-1-points": "88",
            "prize-1-quantity": "", "prize-1-weight": "30",
            "prize-3-kind": "nothing", "prize-3-name": "谢谢参与", "prize-3-weight": "60",
            "starts_at": "2026-12-12T00:00", "ends_at": "2026-12-13T00:00", **extra}


async def _campaigns(services: Services) -> list[dict[str, Any]]:
    return [dict(r) for r in await services.pool.fetch("SELECT * FROM campaigns")]


async def test_the_builder_creates_a_draft_with_its_odds(
        shop: Console, factory: Factory, services: Services) -> None:
    template = await factory.template(shop.merchant, stock=100)
    r = await shop.post("/console/campaigns/new", _form(template["id"], chance_per_check_in="1",
                                                         chance_per_invite="2", pity_after="5",
                                                         pity_prize="1"))
    assert r.status_code == 303
    campaign_id = r.headers["location"].split("/")[-1].split("?")[0]
    got = (await factory.client.get(f"/api/v1/campaigns/{campaign_id}",
                                    headers=shop.merchant.headers)).json()
    assert got["status"] == "draft" and got["limits"]["per_member_per_day"] == 3
    assert got["chances"] == {"per_order": None, "per_check_in": 1, "per_invite": 2}
    assert got["pity"] == {"after": 5, "prize_id": got["prizes"][1]["id"]}  # the 88积分 row
    assert [(p["name"], p["kind"], p["quantity"], p["weight"]) for p in got["prizes"]] == [
        ("10元券", "coupon", 50, 20), ("88积分", "points", None, 30),
        ("谢谢参与", "nothing", None, 60)]
    assert got["starts_at"] == "2026-12-11T16:00:00Z"  # midnight in Shanghai
    page = (await shop.get(f"/console/campaigns/{campaign_id}")).text
    assert "18.18%" in page and "27.27%" in page and "54.55%" in page
    assert 'data-preview' in page
    preview = await shop.get(f"/console/campaigns/{campaign_id}/preview")
    assert preview.status_code == 200 and 'data-action="play"' in preview.text
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    # Members cannot see the draft itself.
    assert (await factory.client.get(f"/play/{campaign_id}")).status_code == 404


async def test_bad_builder_forms_say_why_and_create_nothing(
        shop: Console, factory: Factory, services: Services) -> None:
    template = await factory.template(shop.merchant, stock=100)
    cases = [
        ({"name": ""}, "请填写此项"),
        ({"prize-0-quantity": "101"}, "超出库存：这张券还可用 100 张"),
        ({"prize-0-template": "tpl_of_someone_else"}, "请选择一张优惠券"),
        ({"prize-0-weight": "0"}, "数值太小"),
        ({"prize-1-points": "many"}, "请输入整数"),
        ({"ends_at": "2026-12-11T00:00"}, "结束时间必须晚于开始时间"),
        ({"starts_at": "tomorrow"}, "请选择日期和时间"),
        ({"game": "dice"}, "填写有误"),  # not a game
        ({"per_member_per_day": "0"}, "数值太小"),
        ({"chance_per_order": "101"}, "数值太大"),
        ({"pity_after": "3", "pity_prize": "3"}, "请选择保底奖品"),  # the "nothing" row
        ({"pity_after": "3", "pity_prize": "7"}, "请选择保底奖品"),  # no such row
        ({"pity_prize": "0"}, "请填写连续未中奖几次后保底"),
        ({"pity_after": "1001", "pity_prize": "0"}, "数值太大"),
    ]
    for change, message in cases:
        r = await shop.post("/console/campaigns/new", _form(template["id"], **change))
        assert r.status_code == 422, change
        assert message in r.text, (change, message)
        assert 'value="双十二大转盘"' in r.text or change.get("name") == ""  # kept as typed
    no_prizes = {k: v for k, v in _form(template["id"]).items() if not k.startswith("prize-")}
    r = await shop.post("/console/campaigns/new", no_prizes)
    assert r.status_code == 422 and "至少添加一个奖品" in r.text
    assert await _campaigns(services) == []


async def test_cost_preview_caps_each_prize_at_its_quantity() -> None:
    templates = {"t": {"discount": {"type": "amount_off", "amount": 1000}}}
    prizes = [{"name": "10元券", "kind": "coupon", "coupon_template_id": "t", "quantity": 50,
               "weight": 20},
              {"name": "88积分", "kind": "points", "points": 88, "quantity": None,
               "weight": 30},
              {"name": "谢谢参与", "kind": "nothing", "weight": 50}]
    few = builder.cost_preview(prizes, templates, players=100, plays=1)
    assert few.coupons == 20 and few.face_value == 20_000 and few.points == 2640
    assert not few.prizes[0].runs_out and few.per_player == 200
    many = builder.cost_preview(prizes, templates, players=10_000, plays=3)
    assert many.coupons == 50 and many.face_value == 50_000 and many.prizes[0].runs_out
    assert many.points == 88 * 9000


async def test_cost_preview_fragment_follows_the_form(shop: Console,
                                                      factory: Factory) -> None:
    template = await factory.template(shop.merchant, stock=100,
                                      discount={"type": "amount_off", "amount": 500})
    form = _form(template["id"], players="100", plays="1")
    r = await shop.client.get("/console/campaigns/cost-preview", params=form,
                              headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert 'data-coupons="18.2"' in r.text and "¥90.91" in r.text  # 100 × 20/110 × ¥5


async def test_publish_edit_pause_end_and_what_cannot_be_done(
        shop: Console, factory: Factory, services: Services) -> None:
    template = await factory.template(shop.merchant, stock=60)
    r = await shop.post("/console/campaigns/new", _form(template["id"], starts_at="",
                                                        ends_at=""))
    campaign_id = r.headers["location"].split("/")[-1].split("?")[0]
    url = f"/console/campaigns/{campaign_id}"
    # A draft's odds can change.
    edit = {"name": "大转盘", "prize-0-name": "10元券", "prize-0-quantity": "60",
            "prize-0-weight": "10", "prize-1-name": "88积分", "prize-1-weight": "30",
            "prize-2-name": "谢谢参与", "prize-2-weight": "60"}
    assert (await shop.post(f"{url}/edit", edit)).status_code == 303
    # Someone else takes the stock meanwhile: publishing says so and changes nothing.
    other = await factory.campaign(shop.merchant, [
        {"name": "券", "kind": "coupon", "coupon_template_id": template["id"], "quantity": 10,
         "weight": 1}])
    r = await shop.post(f"{url}/publish")
    assert r.status_code == 409 and "优惠券库存不足，无法发布" in r.text
    assert (await _status(services, campaign_id)) == "draft"
    await factory.client.post(f"/api/v1/campaigns/{other['id']}/end",
                              headers=shop.merchant.headers)
    await services.pool.execute("UPDATE coupon_templates SET reserved = 0")  # released
    r = await shop.post(f"{url}/publish")
    assert r.status_code == 303 and r.headers["location"].endswith("notice=campaign_publish")
    assert (await _status(services, campaign_id)) == "active"
    # Live: odds are locked, quantities may only grow past what was won.
    locked = await shop.post(f"{url}/edit", {**edit, "prize-0-weight": "99"})
    assert locked.status_code == 303  # the weight field is read-only: it is ignored
    got = (await factory.client.get(f"/api/v1/campaigns/{campaign_id}",
                                    headers=shop.merchant.headers)).json()
    assert got["prizes"][0]["weight"] == 10
    assert (await shop.post(f"{url}/edit", {**edit, "prize-0-quantity": "70"})).status_code \
        == 409  # the template has only 60
    r = await shop.post(f"{url}/publish")  # twice
    assert r.status_code == 409 and "刷新页面" in r.text
    for action, status in [("pause", "paused"), ("resume", "active"), ("end", "ended")]:
        r = await shop.post(f"{url}/{action}")
        assert r.status_code == 303 and (await _status(services, campaign_id)) == status
    assert (await shop.get(f"{url}/edit")).status_code == 303  # ended: nothing to edit


async def _status(services: Services, campaign_id: str) -> str:
    return str(await services.pool.fetchval("SELECT status FROM campaigns WHERE id = $1",
                                            campaign_id))


async def test_the_dashboard_follows_draws_and_settlement(
        shop: Console, factory: Factory, services: Services, settings: Settings,
        clock: FrozenClock) -> None:
    template = await factory.template(shop.merchant, stock=100)
    campaign = await factory.campaign(shop.merchant, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": 8, "weight": 1}], limits={"per_member_per_day": 5})
    url = f"/console/campaigns/{campaign['id']}"
    empty = (await shop.client.get(f"{url}/series.json")).json()
    assert empty["totals"] == {"draws": 0, "players": 0, "wins": 0}
    members = await factory.members_bulk(shop.merchant, 3)
    for member in members:
        for _ in range(2):
            assert (await factory.draw(member, campaign["id"])).status_code == 201
    clock.advance(minutes=20)  # later draws fall in later buckets
    assert (await factory.draw(members[0], campaign["id"])).status_code == 201
    data = (await shop.client.get(f"{url}/series.json")).json()
    assert data["totals"] == {"draws": 7, "players": 3, "wins": 7}
    assert sum(data["draws"]) == 7 and sum(data["wins"]) == 7
    assert [n for n in data["draws"] if n] == [6, 1]
    burn = data["prizes"][0]["burnDown"]
    assert burn[-1] == 1 and max(burn) == 8 and burn == sorted(burn, reverse=True)
    panel = (await shop.client.get(f"{url}/panel", headers={"HX-Request": "true"})).text
    assert 'data-stat="draws">7<' in panel and 'data-stat="unsettled">7<' in panel
    assert "预计发完" in panel
    await drain(settings, clock)
    panel = (await shop.client.get(f"{url}/panel")).text
    assert 'data-stat="issued">7<' in panel and 'data-stat="unsettled">0<' in panel


def test_the_chart_window_and_buckets() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    class C:
        ended_at = None
        created_at = now - timedelta(days=3)

        def __init__(self, published: datetime) -> None:
            self.published_at = published

    start, end, size = dashboard.window(C(now), now)  # type: ignore[arg-type]
    assert size == timedelta(minutes=1) and end - start <= timedelta(minutes=31)
    start, end, size = dashboard.window(C(now - timedelta(hours=5)), now)  # type: ignore[arg-type]
    assert size == timedelta(minutes=5)
    start, end, size = dashboard.window(C(now - timedelta(days=2)), now)  # type: ignore[arg-type]
    assert size == timedelta(minutes=15) and end - start <= timedelta(hours=24, minutes=15)
