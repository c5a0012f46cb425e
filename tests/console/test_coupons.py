"""Coupon templates in the console: create, edit, top up; bad input changes nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from engagement.coupons import console as coupon_console
from engagement.coupons.service import issue_single
from engagement.kit.db import transaction
from engagement.kit.state import Services
from tests.console.helpers import Console
from tests.factories import Factory


async def _templates(services: Services) -> list[dict[str, Any]]:
    rows = await services.pool.fetch("SELECT * FROM coupon_templates ORDER BY id")
    return [dict(r) for r in rows]


async def test_templates_are_created_from_the_form(shop: Console, services: Services) -> None:
    forms = [
        {"name": "满50减10元券", "discount_type": "amount_off", "amount": "10",
         "min_spend": "50", "stock": "200", "valid_days": "30"},
        {"name": "饮品八五折", "discount_type": "percent_off", "zhe": "8.5", "stock": ""},
        {"name": "免费蛋挞", "discount_type": "gift", "gift_description": "到店领取",
         "stock": "20", "valid_days": "", "per_member_limit": "1", "stackable": "on"},
    ]
    for form in forms:
        r = await shop.post("/console/coupons/new", form)
        assert r.status_code == 303 and r.headers["location"].endswith("notice=template_created")
    rows = {t["name"]: t for t in await _templates(services)}
    assert rows["满50减10元券"]["discount"] == {"type": "amount_off", "amount": 1000}
    assert rows["满50减10元券"]["min_spend"] == 5000 and rows["满50减10元券"]["stock"] == 200
    assert rows["饮品八五折"]["discount"] == {"type": "percent_off", "percent": 15}
    assert rows["饮品八五折"]["stock"] is None
    assert rows["免费蛋挞"]["valid_days"] is None and rows["免费蛋挞"]["per_member_limit"] == 1
    assert [t["stackable"] for t in rows.values()] == [False, False, True]
    page = (await shop.get("/console/coupons")).text
    assert all(name in page for name in rows)


async def test_bad_template_forms_say_why_and_create_nothing(shop: Console,
                                                             services: Services) -> None:
    cases = [
        ({"name": "", "discount_type": "amount_off", "amount": "10"}, "请填写此项"),
        ({"name": "x", "discount_type": "amount_off", "amount": "ten"}, "请输入金额"),
        ({"name": "x", "discount_type": "amount_off", "amount": "0"}, "金额必须大于 0"),
        ({"name": "x", "discount_type": "percent_off", "zhe": "8.55"}, "请输入 0.1 到 9.9"),
        ({"name": "x", "discount_type": "percent_off", "zhe": "10"}, "请输入 0.1 到 9.9"),
        ({"name": "x", "discount_type": "gift", "gift_description": ""}, "请填写此项"),
        ({"name": "x", "discount_type": "amount_off", "amount": "5", "stock": "-1"},
         "数值太小"),
        ({"name": "x" * 121, "discount_type": "amount_off", "amount": "5"}, "数值太大"),
    ]
    for form, message in cases:
        r = await shop.post("/console/coupons/new", form)
        assert r.status_code == 422, form
        assert message in r.text, (form, message)
    assert await _templates(services) == []


async def test_edit_keeps_promised_terms_and_stock_never_undercuts_issued(
        shop: Console, factory: Factory, services: Services) -> None:
    template = await factory.template(shop.merchant, name="满50减10", stock=10,
                                      min_spend=5000)
    url = f"/console/coupons/{template['id']}"
    r = await shop.post(url, {"name": "满50减10（周末）", "discount_type": "amount_off",
                              "amount": "20", "min_spend": "50", "valid_days": "7"})
    assert r.status_code == 303  # nothing issued yet: the terms may still change
    member = await factory.member(shop.merchant)
    async with transaction(services.pool) as conn:
        for _ in range(4):
            await issue_single(conn, shop.merchant.id, template["id"], member.id,
                               source="test", now=services.clock.now())
    before = await _templates(services)
    assert before[0]["discount"]["amount"] == 2000 and before[0]["issued"] == 4
    r = await shop.post(url, {"name": "改了", "discount_type": "amount_off", "amount": "30",
                              "min_spend": "50", "valid_days": "7"})
    assert r.status_code == 409 and "不能再改" in r.text
    assert await _templates(services) == before
    # Renaming and the validity of future coupons may change.
    r = await shop.post(url, {"name": "周末券", "discount_type": "amount_off", "amount": "20",
                              "min_spend": "50", "valid_days": "14"})
    assert r.status_code == 303
    # Stock: top up, take back what is unused, never below what is issued.
    assert (await shop.post(f"{url}/stock", {"delta": "100"})).status_code == 303
    assert (await shop.post(f"{url}/stock", {"delta": "-100"})).status_code == 303
    r = await shop.post(f"{url}/stock", {"delta": "-7"})  # stock 10, issued 4
    assert r.status_code == 409 and "库存不能少于已预留和已发放的数量" in r.text
    for bad in ("", "abc", "0"):
        assert (await shop.post(f"{url}/stock", {"delta": bad})).status_code == 422
    row = (await _templates(services))[0]
    assert (row["name"], row["valid_days"], row["stock"], row["issued"]) == ("周末券", 14, 10, 4)
    page = (await shop.get(url)).text
    assert 'data-issued>4<' in page and 'data-available>6<' in page


async def test_unlimited_templates_have_nothing_to_top_up(shop: Console,
                                                          factory: Factory) -> None:
    template = await factory.template(shop.merchant, stock=None)
    r = await shop.post(f"/console/coupons/{template['id']}/stock", {"delta": "10"})
    assert r.status_code == 409 and "不限量" in r.text


async def test_the_list_is_paged_and_every_template_is_on_exactly_one_page(
        shop: Console, rival: Console, factory: Factory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coupon_console, "TEMPLATES_PER_PAGE", 3)
    ours = {(await factory.template(shop.merchant, name=f"券{i}"))["id"] for i in range(8)}
    await factory.template(rival.merchant, name="隔壁的券")
    seen: list[str] = []
    pages, path = 0, "/console/coupons"
    while True:
        r = await shop.get(path)
        assert r.status_code == 200, r.text
        pages += 1
        seen += re.findall(r'<tr data-template-id="([^"]+)"', r.text)
        following = re.search(r'href="([^"]+)" rel="next" data-next-page', r.text)
        assert ("data-first-page" in r.text) == (pages > 1)
        if following is None:
            break
        path = html.unescape(following.group(1))
    assert pages == 3  # 3 + 3 + 2: the last full page links nowhere empty
    assert len(seen) == len(set(seen)) and set(seen) == ours
    assert seen == sorted(seen, reverse=True)  # newest first, as before
    # A page boundary that falls exactly on the last template leaves no "next" link.
    monkeypatch.setattr(coupon_console, "TEMPLATES_PER_PAGE", 4)
    second = await shop.get(f"/console/coupons?before={seen[3]}")
    assert len(re.findall(r"<tr data-template-id=", second.text)) == 4
    assert "data-next-page" not in second.text
    # Past the end: no empty state for a merchant who has coupons, a way back instead.
    past = await shop.get(f"/console/coupons?before={seen[-1]}")
    assert "data-first-page" in past.text and "还没有优惠券" not in past.text
