"""The console's member-card figures and their CSVs against known data, the plan editor,
and a member's membership on their console page."""

from __future__ import annotations

import csv
import io

from engagement.kit.db import transaction
from engagement.kit.ids import new_id
from engagement.kit.state import Services
from engagement.loyalty.wallet import queries as wallet_queries
from engagement.loyalty.wallet import service as wallet
from tests.console.helpers import Console
from tests.factories import Factory


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


async def test_figures_and_csv_match_known_data(shop: Console, factory: Factory,
                                                services: Services) -> None:
    merchant = shop.merchant
    empty = await shop.get("/console/member-cards")
    assert empty.status_code == 200 and "data-stored-empty" in empty.text
    assert "data-plans-empty" in empty.text
    r = await factory.client.put("/api/v1/top-up-plans", headers=merchant.headers,
                                 json={"plans": [{"pay": 50000, "bonus": 5000}]})
    assert r.status_code == 200
    r = await factory.client.put("/api/v1/membership-plans", headers=merchant.headers, json={
        "plans": [{"name": "年卡", "price": 19900, "days": 365},
                  {"name": "月卡", "price": 9900, "days": 30}]})
    year, month = [p["id"] for p in r.json()["plans"]]
    a, b = await factory.member(merchant), await factory.member(merchant)
    for member, pay in ((a, 50000), (b, 20000)):
        r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups", json={"pay": pay},
                                      headers={**merchant.headers, "Idempotency-Key": member.id})
        assert r.status_code == 201
    for member, plan, paid_with in ((a, year, "balance"), (b, month, "cash"),
                                    (b, month, "cash")):
        r = await factory.client.post(f"/api/v1/members/{member.id}/memberships",
                                      json={"plan_id": plan, "paid_with": paid_with},
                                      headers=merchant.headers)
        assert r.status_code == 201, r.text
    now = services.clock.now()
    async with transaction(services.pool) as conn:  # an order paid from b's balance
        await wallet.debit(conn, merchant.id, b.id, 3000, kind="spend", now=now)
        # and a refund of 10 yuan of a's, returned to the balance
        await wallet_queries.lock_member(conn, a.id)
        await wallet_queries.insert_entry(
            conn, id=new_id("bal"), merchant_id=merchant.id, member_id=a.id, kind="refund",
            principal=1000, bonus=0, order_id=None, store_id=None, staff_id=None, now=now)
    page = await shop.get("/console/member-cards")
    assert page.status_code == 200
    for figure, shown in (("topped_up", "¥700.00"), ("spent", "¥219.00"),
                          ("principal", "¥481.00"), ("bonus", "¥50.00"), ("active", "2"),
                          ("purchases", "3"), ("renewals", "1"), ("revenue", "¥397.00")):
        assert f'data-figure="{figure}">{shown}<' in page.text, figure
    stored = await shop.get("/console/member-cards/stored-value.csv")
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("text/csv")
    assert _rows(stored.text) == [
        ["指标", "金额（元）"], ["累计充值（本金）", "700.00"], ["累计赠送", "50.00"],
        ["累计消费（扣除退回）", "219.00"], ["退卡退款", "0.00"], ["作废赠送", "0.00"],
        ["未消费本金（负债）", "481.00"], ["未消费赠送", "50.00"]]
    paid = await shop.get("/console/member-cards/paid-members.csv")
    assert _rows(paid.text) == [
        ["套餐", "售出", "其中续费", "收入（元）", "在期会员"],
        ["年卡", "1", "0", "199.00", "1"], ["月卡", "2", "1", "198.00", "1"],
        ["合计", "3", "1", "397.00", "2"]]
    english = await shop.client.get("/console/member-cards/paid-members.csv?lang=en")
    assert _rows(english.text)[0][0] == "Plan"
    # The member's console page shows their membership.
    member_page = await shop.get(f"/console/members/{a.id}")
    assert "data-member-membership" in member_page.text and "年卡" in member_page.text


async def test_the_plan_editor_saves_through_the_api_rules(shop: Console,
                                                           factory: Factory) -> None:
    page = await shop.get("/console/membership-plans")
    assert page.status_code == 200 and "data-plans-empty" in page.text
    bad = await shop.post("/console/membership-plans", {
        "plan-0-name": "年卡", "plan-0-price": "abc", "plan-0-days": "365"})
    assert bad.status_code == 422 and 'data-error-for="plan-0-price"' in bad.text
    unknown = await shop.post("/console/membership-plans", {
        "plan-0-name": "年卡", "plan-0-price": "199", "plan-0-days": "365",
        "plan-0-coupon": "tpl_nope"})
    assert unknown.status_code == 422 and 'data-error-for="plan-0-coupon"' in unknown.text
    ok = await shop.post("/console/membership-plans", {
        "plan-0-name": "年卡", "plan-0-price": "199", "plan-0-days": "365",
        "plan-0-discount": "5"})
    assert ok.status_code == 303
    got = (await factory.client.get("/api/v1/membership-plans",
                                    headers=shop.merchant.headers)).json()
    assert [(p["name"], p["price"], p["days"], p["discount_percent"]) for p in got["plans"]] == [
        ("年卡", 19900, 365, 5)]
    page = await shop.get("/console/membership-plans")
    assert 'value="199"' in page.text
