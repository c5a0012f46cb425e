"""The console's loyalty pages (积分设置 · 会员等级 · 积分商城 · 生日礼 · Webhooks): each
saves what the API would and reads back what the API says, refuses bad input with the
field's message (a 4xx page) and changes nothing, and shows its empty state."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engagement.kit.state import Services
from engagement.loyalty.webhooks import service as webhooks
from engagement.loyalty.webhooks import tasks as webhook_tasks
from engagement.loyalty.webhooks.console import EVENTS
from engagement.loyalty.webhooks.schemas import EventType
from tests.console.helpers import Console, add_user, signed_in
from tests.factories import Factory
from tests.loyalty.helpers import adjust, pay, set_program

PAGES = ("/console/points", "/console/tiers", "/console/rewards", "/console/birthday",
         "/console/webhooks")


async def _api(shop: Console, path: str) -> Any:
    r = await shop.client.get(path, headers=shop.merchant.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_each_page_answers_owner_and_manager_and_refuses_a_cashier(
        app: object, shop: Console, services: Services) -> None:
    await add_user(services, shop.merchant, "manager@shiguang.example", role="manager")
    await add_user(services, shop.merchant, "cashier@shiguang.example", role="cashier")
    for path in PAGES:
        page = await shop.get(path)
        assert page.status_code == 200, path
        assert f'href="{path}"' in page.text and 'aria-current="page"' in page.text
    async with signed_in(app, shop.merchant, "manager@shiguang.example") as manager:
        for path in PAGES:
            assert (await manager.get(path)).status_code == 200, path
    async with signed_in(app, shop.merchant, "cashier@shiguang.example") as cashier:
        for path in PAGES:
            r = await cashier.get(path)
            assert r.status_code == 403 and 'href="/till"' in r.text, path
            assert (await cashier.post(path, {})).status_code == 403, path


async def test_points_rule_saved_like_the_api_and_bad_forms_change_nothing(
        shop: Console) -> None:
    page = (await shop.get("/console/points")).text
    assert "data-never-set" in page
    r = await shop.post("/console/points", {"per_amount": "2.5", "points": "3",
                                            "join_bonus": "100", "expiry_days": "365"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=points_saved")
    program = await _api(shop, "/api/v1/points-program")
    assert (program["earn"], program["join_bonus"], program["expiry_days"]) == (
        {"per_amount": 250, "points": 3}, 100, 365)
    page = (await shop.get("/console/points?notice=points_saved")).text
    assert 'value="2.5"' in page and "积分规则已保存" in page
    for form, field, message in [
            ({"per_amount": "", "points": "1"}, "per_amount", "请填写此项"),
            ({"per_amount": "0", "points": "1"}, "per_amount", "金额要大于 0"),
            ({"per_amount": "一元", "points": "1"}, "per_amount", "请输入金额"),
            ({"per_amount": "0.01", "points": "2"}, "points", "每消费 1 分钱最多送 1 积分"),
            ({"per_amount": "1", "points": "1", "expiry_days": "0"}, "expiry_days", "数值太小"),
            ({"per_amount": "1", "points": "1", "join_bonus": "-5"}, "join_bonus", "数值太小")]:
        r = await shop.post("/console/points", form)
        assert r.status_code == 422, form
        assert message in r.text and f'id="{field}-error"' in r.text, form
    assert await _api(shop, "/api/v1/points-program") == program
    # What points are worth is not on the page, and saving keeps it.
    await set_program(shop.client, shop.merchant, point_value={"points": 100, "cents": 100})
    assert (await shop.post("/console/points", {"per_amount": "1", "points": "2"})
            ).status_code == 303
    program = await _api(shop, "/api/v1/points-program")
    assert program["point_value"] == {"points": 100, "cents": 100}
    assert program["expiry_days"] is None and program["earn"]["points"] == 2


async def test_a_members_points_are_adjusted_once_with_a_reason(
        shop: Console, factory: Factory) -> None:
    member = await factory.member(shop.merchant, name="小林")
    await adjust(shop.client, member, 30)
    page = (await shop.get(f"/console/members/{member.id}")).text
    assert f'href="/console/members/{member.id}/points"' in page
    form_page = (await shop.get(f"/console/members/{member.id}/points")).text
    key = re.search(r'name="key" value="([^"]+)"', form_page)
    assert key and "data-balance>30<" in form_page
    form = {"direction": "add", "amount": "20", "reason": "补录漏记的消费", "key": key.group(1)}
    for _ in range(2):  # a double click, a refresh: one adjustment
        r = await shop.post(f"/console/members/{member.id}/points", form)
        assert r.status_code == 303 and r.headers["location"].endswith("notice=points_adjusted")
    ledger = await _api(shop, f"/api/v1/members/{member.id}/points")
    assert ledger["balance"] == 50
    assert (ledger["items"][0]["delta"], ledger["items"][0]["reason"]) == (20, "补录漏记的消费")
    assert len(ledger["items"]) == 2
    # The same form's key with another body is refused, not applied.
    r = await shop.post(f"/console/members/{member.id}/points", {**form, "amount": "25"})
    assert r.status_code == 422 and "已经提交过" in r.text
    fresh = re.search(r'name="key" value="([^"]+)"', r.text)
    assert fresh and fresh.group(1) != key.group(1)
    # Too many points taken: said in words, with the balance.
    r = await shop.post(f"/console/members/{member.id}/points", {
        "direction": "subtract", "amount": "51", "reason": "兑换礼品", "key": fresh.group(1)})
    assert r.status_code == 409
    assert "积分不足：该会员现有 50 积分，最多只能扣 50" in r.text
    for bad, message in [({"amount": "0"}, "数值太小"), ({"amount": "二十"}, "请输入整数"),
                         ({"reason": ""}, "请填写此项"), ({"key": "../x"}, "页面已过期")]:
        r = await shop.post(f"/console/members/{member.id}/points",
                            {**form, "key": fresh.group(1), **bad})
        assert r.status_code == 422 and message in r.text, bad
    assert (await _api(shop, f"/api/v1/members/{member.id}/points"))["balance"] == 50
    assert (await shop.get("/console/members/mem_NOPE/points")).status_code == 404


async def test_tiers_from_empty_to_two_and_refusals(shop: Console, factory: Factory) -> None:
    page = (await shop.get("/console/tiers")).text
    assert "data-tiers-empty" in page and 'href="#tier-0-name"' in page
    template = await factory.template(shop.merchant, name="金卡月礼")
    r = await shop.post("/console/tiers", {
        "tier-0-name": "银卡", "tier-0-basis": "points", "tier-0-threshold": "500",
        "tier-0-window": "365",
        "tier-1-name": "金卡", "tier-1-basis": "spend", "tier-1-threshold": "2000.50",
        "tier-1-window": "180", "tier-1-coupon": template["id"],
        "tier-2-name": "", "tier-2-threshold": "", "tier-2-window": "365"})
    assert r.status_code == 303, r.text
    tiers = await _api(shop, "/api/v1/tiers")
    assert tiers["tiers"] == [
        {"name": "银卡", "min_points": 500, "min_spend": None, "window_days": 365,
         "monthly_coupon_template_id": None},
        {"name": "金卡", "min_points": None, "min_spend": 200050, "window_days": 180,
         "monthly_coupon_template_id": template["id"]}]
    page = (await shop.get("/console/tiers")).text
    assert "data-tiers-empty" not in page and 'value="2000.5"' in page
    assert page.count("data-tier-row=") == 3  # the two and a blank one to add
    for form, field, message in [
            ({"tier-0-name": "银卡", "tier-0-threshold": "1", "tier-0-window": "1",
              "tier-1-name": "银卡", "tier-1-threshold": "2", "tier-1-window": "1"},
             "tier-1-name", "等级名称重复了"),
            ({"tier-0-name": "银卡", "tier-0-threshold": "很多", "tier-0-window": "1"},
             "tier-0-threshold", "请输入整数"),
            ({"tier-0-name": "银卡", "tier-0-threshold": "10", "tier-0-window": "0"},
             "tier-0-window", "数值太小"),
            ({"tier-0-name": "", "tier-0-threshold": "10", "tier-0-window": "30"},
             "tier-0-name", "请填写此项"),
            ({"tier-0-name": "银卡", "tier-0-threshold": "10", "tier-0-window": "30",
              "tier-0-coupon": "tpl_NOPE"}, "tier-0-coupon", "所选优惠券不存在")]:
        r = await shop.post("/console/tiers", form)
        assert r.status_code == 422, form
        assert message in r.text and f'id="{field}-error"' in r.text, form
    assert await _api(shop, "/api/v1/tiers") == tiers


async def test_rewards_added_taken_off_and_put_back(shop: Console, factory: Factory) -> None:
    page = (await shop.get("/console/rewards")).text
    assert "data-rewards-empty" in page and 'href="/console/coupons/new"' in page
    template = await factory.template(shop.merchant, name="满50减5")
    page = (await shop.get("/console/rewards")).text
    assert "data-rewards-empty" in page and 'data-action="first-reward"' in page
    for form, field, message in [
            ({"cost_points": "100", "stock": "10"}, "coupon_template_id", "请填写此项"),
            ({"coupon_template_id": "tpl_NOPE", "cost_points": "100", "stock": "10"},
             "coupon_template_id", "所选优惠券不存在"),
            ({"coupon_template_id": template["id"], "cost_points": "0", "stock": "10"},
             "cost_points", "数值太小"),
            ({"coupon_template_id": template["id"], "cost_points": "100", "stock": "-1"},
             "stock", "数值太小")]:
        r = await shop.post("/console/rewards", form)
        assert r.status_code == 422, form
        assert message in r.text and f'id="{field}-error"' in r.text, form
    assert (await _api(shop, "/api/v1/rewards?include_inactive=true"))["items"] == []
    r = await shop.post("/console/rewards", {"coupon_template_id": template["id"],
                                             "cost_points": "100", "stock": "10"})
    assert r.status_code == 303
    [reward] = (await _api(shop, "/api/v1/rewards"))["items"]
    assert (reward["cost_points"], reward["stock"], reward["active"]) == (100, 10, True)
    member = await factory.member(shop.merchant)
    r = await shop.post(f"/console/rewards/{reward['id']}/active", {})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=reward_off")
    assert (await shop.client.get("/api/v1/rewards", headers=member.headers)
            ).json()["items"] == []
    page = (await shop.get("/console/rewards")).text
    assert f'data-reward-id="{reward["id"]}" data-active="false"' in page
    r = await shop.post(f"/console/rewards/{reward['id']}/active", {"active": "on"})
    assert r.headers["location"].endswith("notice=reward_on")
    assert len((await shop.client.get("/api/v1/rewards", headers=member.headers)
                ).json()["items"]) == 1
    assert (await shop.post("/console/rewards/rwd_NOPE/active", {})).status_code == 404


async def test_birthday_automation_from_the_console(shop: Console, factory: Factory) -> None:
    page = (await shop.get("/console/birthday")).text
    assert "data-birthday-empty" in page and 'href="/console/coupons/new"' in page
    template = await factory.template(shop.merchant, name="生日蛋糕立减20元")
    assert "data-never-set" in (await shop.get("/console/birthday")).text
    for form, message in [({"enabled": "on", "days_before": "3"}, "开启生日礼要先选一张优惠券"),
                          ({"enabled": "on", "coupon_template_id": template["id"],
                            "days_before": "31"}, "数值太大"),
                          ({"enabled": "on", "coupon_template_id": template["id"],
                            "days_before": "三"}, "请输入整数"),
                          ({"enabled": "on", "coupon_template_id": "tpl_NOPE"},
                           "所选优惠券不存在")]:
        r = await shop.post("/console/birthday", form)
        assert r.status_code == 422 and message in r.text, form
    assert (await _api(shop, "/api/v1/birthday-automation"))["send_id"] is None
    r = await shop.post("/console/birthday", {"enabled": "on", "days_before": "3",
                                              "coupon_template_id": template["id"]})
    assert r.status_code == 303
    saved = await _api(shop, "/api/v1/birthday-automation")
    assert (saved["enabled"], saved["coupon_template_id"], saved["days_before"]) == (
        True, template["id"], 3)
    page = (await shop.get("/console/birthday")).text
    assert "data-issued>0<" in page and 'value="3"' in page and "Asia/Shanghai" in page
    r = await shop.post("/console/birthday", {"coupon_template_id": template["id"],
                                              "days_before": "3"})
    assert (await _api(shop, "/api/v1/birthday-automation"))["enabled"] is False


@pytest.fixture
def allow_local(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={"webhooks_allow_private_targets": True})
    return services


async def test_webhooks_secret_once_log_and_retry(shop: Console, factory: Factory,
                                                  allow_local: Services) -> None:
    assert set(EVENTS) == set(EventType.__args__)  # every event has its words
    page = (await shop.get("/console/webhooks")).text
    assert "data-webhooks-empty" in page and 'href="#url"' in page
    for form, field, message in [({"event-order.paid": "on"}, "url", "请填写接收地址"),
                                 ({"url": "pos.example.com", "event-order.paid": "on"}, "url",
                                  "完整地址"),
                                 ({"url": "https://pos.example.com/h"}, "events",
                                  "请至少选一个事件")]:
        r = await shop.post("/console/webhooks", form)
        assert r.status_code == 422 and message in r.text and f'id="{field}-error"' in r.text
    assert (await _api(shop, "/api/v1/webhooks"))["items"] == []
    r = await shop.post("/console/webhooks", {"url": "http://127.0.0.1:9/hooks",
                                              "event-order.paid": "on"})
    assert r.status_code == 201
    secret = re.search(r'value="(whsec_[^"]+)"', r.text)
    assert secret
    [endpoint] = (await _api(shop, "/api/v1/webhooks"))["items"]
    assert endpoint["events"] == ["order.paid"]
    page = (await shop.get("/console/webhooks")).text
    assert secret.group(1) not in page and f'data-webhook-id="{endpoint["id"]}"' in page
    log_page = f"/console/webhooks/{endpoint['id']}"
    assert "data-deliveries-empty" in (await shop.get(log_page)).text
    member = await factory.member(shop.merchant)
    await pay(shop.client, member, "o-1", 100)
    await allow_local.pool.execute(
        "UPDATE webhook_deliveries SET status = 'failed', attempts = $1, last_error = $2",
        len(webhooks.RETRY_DELAYS) + 1, "ConnectError: connection refused")
    page = (await shop.get(log_page)).text
    assert 'data-status="failed"' in page and "connection refused" in page
    [delivery] = (await _api(shop, f"/api/v1/webhooks/{endpoint['id']}/deliveries"))["items"]
    retry = f"{log_page}/deliveries/{delivery['id']}/retry"
    r = await shop.post(retry)
    assert r.status_code == 303 and r.headers["location"].endswith("notice=delivery_retried")
    assert (await _api(shop, f"/api/v1/webhooks/{endpoint['id']}/deliveries")
            )["items"][0]["status"] == "pending"
    r = await shop.post(retry)  # a second click: nothing to retry, said so
    assert r.headers["location"].endswith("notice=delivery_not_failed")
    await webhook_tasks.deliver_due({"services": allow_local})  # nobody listens on port 9
    item = (await _api(shop, f"/api/v1/webhooks/{endpoint['id']}/deliveries"))["items"][0]
    assert (item["status"], item["attempts"]) == ("failed", len(webhooks.RETRY_DELAYS) + 2)
    assert (await shop.get("/console/webhooks/whk_NOPE")).status_code == 404


async def test_a_private_webhook_url_is_refused_in_words(shop: Console) -> None:
    r = await shop.post("/console/webhooks", {"url": "http://10.0.0.5/hooks",
                                              "event-order.paid": "on"})
    assert r.status_code == 422 and "不能是内网或本机" in r.text
    assert (await _api(shop, "/api/v1/webhooks"))["items"] == []

