"""Console forms hold input to the API's rules (engagement/kit/fields.py): a NUL, a number past
its column or a time off the calendar is a message beside the input, never a 500, and
nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.kit.state import Services
from tests.console.helpers import Console
from tests.factories import Factory

HUGE = "9" * 30  # past int8
ENORMOUS = "9" * 400  # past what a float holds
BAD_CHARACTER = "含有无法识别的字符"


async def count(services: Services, table: str) -> int:
    return int(await services.pool.fetchval(f"SELECT count(*) FROM {table}"))


def _template_form(**change: str) -> dict[str, str]:
    return {"name": "满50减10", "discount_type": "amount_off", "amount": "10",
            "min_spend": "50", "stock": "100", "valid_days": "30", **change}


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "满50\x00减10"}, BAD_CHARACTER),
    ({"name": "满50\x1b减10"}, BAD_CHARACTER),
    ({"discount_type": "gift", "gift_description": "咖啡\x00"}, BAD_CHARACTER),
    ({"stock": HUGE}, "数值太大"),
    ({"stock": ENORMOUS}, "数值太大"),
    ({"valid_days": HUGE}, "数值太大"),
    ({"per_member_limit": HUGE}, "数值太大"),
    ({"min_spend": HUGE}, "请输入金额"),
    ({"discount_type": "percent_off", "zhe": "NaN"}, "请输入数字"),
    ({"discount_type": "percent_off", "zhe": "Infinity"}, "请输入数字"),
    ({"discount_type": "percent_off", "zhe": "1e999999999"}, "数值太大"),
])
async def test_template_forms_refuse_nul_and_huge_numbers(
        shop: Console, services: Services, change: dict[str, str], message: str) -> None:
    r = await shop.post("/console/coupons/new", _template_form(**change))
    assert r.status_code == 422, r.text
    assert message in r.text
    assert await count(services, "coupon_templates") == 0


async def test_editing_a_template_with_a_nul_changes_nothing(
        shop: Console, factory: Factory, services: Services) -> None:
    template = await factory.template(shop.merchant, name="原名", stock=10)
    url = f"/console/coupons/{template['id']}"
    for change in ({"name": "新\x00名"}, {"per_member_limit": HUGE}):
        r = await shop.post(url, _template_form(**change))
        assert r.status_code == 422, change
    r = await shop.post(f"{url}/stock", {"delta": HUGE})
    assert r.status_code == 422
    row = await services.pool.fetchrow("SELECT name, stock, per_member_limit "
                                       "FROM coupon_templates")
    assert dict(row) == {"name": "原名", "stock": 10, "per_member_limit": None}


async def test_stock_top_ups_stop_at_the_cap(shop: Console, factory: Factory,
                                             services: Services) -> None:
    """Each top-up is within bounds, but they add up: past int4 the UPDATE used to fail."""
    template = await factory.template(shop.merchant, stock=95_000_000)
    url = f"/console/coupons/{template['id']}/stock"
    r = await shop.post(url, {"delta": "10000000"})
    assert r.status_code == 422 and "库存最多一亿张" in r.text
    assert await services.pool.fetchval("SELECT stock FROM coupon_templates") == 95_000_000
    assert (await shop.post(url, {"delta": "5000000"})).status_code == 303


def _builder_form(template_id: str, **change: str) -> dict[str, str]:
    return {"name": "双十二大转盘", "game": "wheel", "per_member_per_day": "3",
            "prize-0-kind": "coupon", "prize-0-name": "10元券", "prize-0-template": template_id,
            "prize-0-quantity": "50", "prize-0-weight": "20",
            "prize-1-kind": "points", "prize-1-name": "88积分", "prize-1-points": "88",
            "prize-1-quantity": "", "prize-1-weight": "30",
            "starts_at": "2026-12-12T00:00", "ends_at": "2026-12-13T00:00", **change}


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "大转盘\x00"}, BAD_CHARACTER),
    ({"prize-0-name": "券\x00"}, BAD_CHARACTER),
    ({"rules": "第一条\x00"}, BAD_CHARACTER),
    ({"prize-0-quantity": HUGE}, "数值太大"),
    ({"prize-1-quantity": ENORMOUS}, "数值太大"),
    ({"prize-1-points": ENORMOUS}, "数值太大"),
    ({"prize-0-weight": HUGE}, "数值太大"),
    ({"per_member_per_day": HUGE}, "数值太大"),
    ({"per_member_total": "²"}, "请输入整数"),
    ({"entry_cost_points": HUGE}, "数值太大"),
    ({"starts_at": "0001-01-01T00:00"}, "2000 年到 2100 年"),
    ({"ends_at": "9999-12-31T23:59"}, "2000 年到 2100 年"),
])
async def test_builder_forms_refuse_nul_huge_numbers_and_edge_times(
        shop: Console, factory: Factory, services: Services, change: dict[str, str],
        message: str) -> None:
    template = await factory.template(shop.merchant, stock=100)
    r = await shop.post("/console/campaigns/new", _builder_form(template["id"], **change))
    assert r.status_code == 422, r.text
    assert message in r.text
    assert await count(services, "campaigns") == 0


async def test_editing_a_campaign_with_a_nul_or_a_huge_quantity_changes_nothing(
        shop: Console, factory: Factory, services: Services) -> None:
    template = await factory.template(shop.merchant, stock=100)
    r = await shop.post("/console/campaigns/new", _builder_form(template["id"]))
    assert r.status_code == 303, r.text
    campaign_id = r.headers["location"].split("/")[-1].split("?")[0]
    before = [dict(row) for row in await services.pool.fetch(
        "SELECT name, quantity, weight FROM campaign_prizes ORDER BY position")]
    for change, message in [({"prize-0-name": "券\x00"}, BAD_CHARACTER),
                            ({"prize-0-quantity": HUGE}, "数值太大"),
                            ({"rules": "\x00"}, BAD_CHARACTER),
                            ({"ends_at": "9999-12-31T23:59"}, "2000 年到 2100 年")]:
        r = await shop.post(f"/console/campaigns/{campaign_id}/edit",
                            _builder_form(template["id"], **change))
        assert r.status_code == 422, change
        assert message in r.text, change
    after = [dict(row) for row in await services.pool.fetch(
        "SELECT name, quantity, weight FROM campaign_prizes ORDER BY position")]
    assert after == before
    campaign = await services.pool.fetchrow("SELECT name, rules, ends_at FROM campaigns")
    assert (campaign["name"], campaign["rules"]) == ("双十二大转盘", "")


@pytest.mark.parametrize("query", [
    {"prize-0-kind": "points", "prize-0-points": ENORMOUS, "prize-0-weight": "1",
     "prize-0-quantity": ENORMOUS},
    {"prize-0-kind": "nothing", "prize-0-weight": ENORMOUS, "per_member_total": "²"},
    {"prize-0-kind": "points", "prize-0-points": "1", "prize-0-weight": "1",
     "plays": "nan", "players": ENORMOUS},
])
async def test_the_cost_preview_survives_what_is_typed(shop: Console,
                                                       query: dict[str, Any]) -> None:
    r = await shop.get("/console/campaigns/cost-preview", params=query)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("change", "field_message"), [
    ({"hold_days": HUGE}, "数值太大"),
    ({"daily_cap": HUGE}, "数值太大"),
    ({"ip_cap": ENORMOUS}, "数值太大"),
    ({"level-1": "NaN"}, "请输入 0 到 100"),
    ({"level-1": "sNaN"}, "请输入 0 到 100"),
    ({"reward": "tpl\x00"}, BAD_CHARACTER),
    ({"share": "tpl\x00"}, BAD_CHARACTER),
])
async def test_referral_settings_refuse_nul_and_huge_numbers(
        shop: Console, services: Services, change: dict[str, str],
        field_message: str) -> None:
    form = {"enabled": "on", "level-1": "10", "hold_days": "7", **change}
    r = await shop.post("/console/referrals/program", form)
    assert r.status_code == 422, r.text
    assert field_message in r.text
    assert await count(services, "referral_programs") == 0


async def test_sign_in_with_a_nul_is_a_form_error(shop: Console) -> None:
    r = await shop.client.post("/console/login", headers={"Accept": "text/html"},
                               data={"email": "owner@shiguang.example\x00",
                                     "password": "x\x00", "csrf_token": shop.token})
    assert r.status_code == 422, r.text
    assert "请输入邮箱和密码" in r.text
