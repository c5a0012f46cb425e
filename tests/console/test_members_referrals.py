"""Members (search, one member's whole story) and the referral pages of the console."""

from __future__ import annotations

import csv
import io

from engagement.kit.state import Services
from tests.console.helpers import Console
from tests.factories import Factory, MemberHandle


async def _referral_world(shop: Console, factory: Factory) -> tuple[MemberHandle, ...]:
    """A refers B, B refers C; B buys for ¥100 and C for ¥50."""
    r = await shop.post("/console/referrals/program", {
        "enabled": "on", "level-1": "10", "level-2": "5", "trigger": "every_order",
        "hold_days": "7", "daily_cap": "50", "ip_cap": "5"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=program_saved")
    a = await factory.member(shop.merchant, phone="13800000001", name="王大伟")
    link = await factory.client.post("/api/v1/me/share-links", json={}, headers=a.headers)
    assert link.status_code == 201, link.text
    b = await factory.member(shop.merchant, phone="13800000002", name="李小红",
                             share_code=link.json()["code"])
    link_b = await factory.client.post("/api/v1/me/share-links", json={}, headers=b.headers)
    c = await factory.member(shop.merchant, phone="13900000003",
                             share_code=link_b.json()["code"])
    for order_id, member, amount in [("o-1", b, 10_000), ("o-2", c, 5_000)]:
        r = await factory.client.post("/api/v1/orders", headers=shop.merchant.headers, json={
            "id": order_id, "member_id": member.id, "amount": amount})
        assert r.status_code == 201, r.text
    return a, b, c


async def test_referral_settings_validate_and_save(shop: Console, factory: Factory,
                                                   services: Services) -> None:
    template = await factory.template(shop.merchant)
    for form, message in [({"level-1": "abc"}, "请输入 0 到 100"),
                          ({"level-1": "80", "level-2": "30"}, "不能超过百分之百"),
                          ({"level-1": ""}, "至少设置一级佣金比例"),
                          ({"hold_days": "400"}, "数值太大"),
                          ({"reward": "tpl_nope"}, "所选优惠券不存在")]:
        r = await shop.post("/console/referrals/program",
                            {"enabled": "on", "level-1": "10", "hold_days": "7", **form})
        assert r.status_code == 422, form
        assert message in r.text, form
    assert await services.pool.fetchval("SELECT count(*) FROM referral_programs") == 0
    defaults = (await shop.get("/console/referrals")).text  # the API's defaults: 10% and 5%
    assert 'name="level-1" inputmode="decimal" value="10"' in defaults
    assert 'name="level-2" inputmode="decimal" value="5"' in defaults
    r = await shop.post("/console/referrals/program", {
        "level-1": "12.5", "reward": template["id"], "trigger": "first_order",
        "hold_days": "3", "daily_cap": "", "ip_cap": "9"})
    assert r.status_code == 303
    got = (await factory.client.get("/api/v1/referral-program",
                                    headers=shop.merchant.headers)).json()
    assert got["enabled"] is False and got["levels"] == [{"rate_bp": 1250}]
    assert (got["reward_coupon_template_id"], got["trigger"], got["hold_days"]) == (
        template["id"], "first_order", 3)
    assert got["max_paid_referrals_per_day"] is None and got["max_joins_per_ip_per_hour"] == 9
    page = (await shop.get("/console/referrals")).text
    assert 'value="12.5"' in page


async def test_referrers_invitees_by_level_and_commissions(
        shop: Console, factory: Factory) -> None:
    a, b, c = await _referral_world(shop, factory)
    overview = (await shop.get("/console/referrals")).text
    assert 'data-referrer-id="' + a.id + '"' in overview and "王大伟" in overview
    # Pending: A earns 10% of B's ¥100 and 5% of C's ¥50, B 10% of C's ¥50.
    assert 'data-total="pending">¥17.5<' in overview
    detail = (await shop.get(f"/console/referrals/members/{a.id}")).text
    level_1 = detail.split('data-level="1"')[1].split('data-level="2"')[0]
    level_2 = detail.split('data-level="2"')[1]
    assert f'data-invitee="{b.id}"' in level_1 and f'data-invitee="{c.id}"' in level_2
    assert 'data-status-total="pending">¥12.5<' in detail  # ¥10 + 5% of ¥50
    csv_text = (await shop.get("/console/exports/commissions.csv")).text
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert sorted((r[3], r[7], r[9]) for r in rows[1:]) == sorted([
        (a.id, "1", "10.00"), (b.id, "1", "5.00"), (a.id, "2", "2.50")])
    assert {(r[8], r[11]) for r in rows[1:]} == {("佣金", "冻结中")}  # words, not codes
    member_page = (await shop.get(f"/console/members/{b.id}")).text
    assert "data-referrer" in member_page and "王大伟" in member_page
    assert "data-invitees-count>1<" in member_page
    assert 'data-order="o-1"' in member_page and "¥100" in member_page


async def test_member_search_and_a_members_story(shop: Console, factory: Factory) -> None:
    template = await factory.template(shop.merchant, stock=10)
    campaign = await factory.campaign(shop.merchant, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": 10, "weight": 1}])
    wang = await factory.member(shop.merchant, phone="13800138000", name="王小明",
                                external_id="POS-0042")
    await factory.member(shop.merchant, phone="13912345678", name="张三")
    assert (await factory.draw(wang, campaign["id"])).status_code == 201
    for q in ("1380013", "小明", "POS-0042", wang.id, "8000", "38000"):
        page = (await shop.get("/console/members", params={"q": q})).text
        assert f'data-member-id="{wang.id}"' in page and "张三" not in page, q
    page = (await shop.get("/console/members", params={"q": "5678"})).text  # 手机尾号
    assert "张三" in page and "王小明" not in page
    page = (await shop.get("/console/members", params={"q": "%"})).text
    assert "没有找到会员" in page  # LIKE wildcards are text, not patterns
    rows = await shop.client.get("/console/members", params={"q": "张"},
                                 headers={"HX-Request": "true"})
    assert rows.text.lstrip().startswith("<tr") and "张三" in rows.text
    story = (await shop.get(f"/console/members/{wang.id}")).text
    assert "王小明" in story and f'href="/console/campaigns/{campaign["id"]}"' in story
    assert "data-draw=" in story  # the games section
    assert (await shop.get("/console/members/mbr_nope")).status_code == 404


async def test_the_english_members_pages_say_members_and_member_name(
        shop: Console, factory: Factory) -> None:
    member = await factory.member(shop.merchant, phone="13800138000")
    # No tier yet: the word the member's own page uses, not a dash.
    zh = (await shop.get("/console/members")).text
    assert "<td data-tier>普通会员</td>" in zh
    page = (await shop.get("/console/members", params={"lang": "en"})).text
    assert "<h1>Members</h1>" in page and "<th>Member name</th>" in page
    assert "<td data-tier>Member</td>" in page
    assert ">member<" not in page
    story = (await shop.get(f"/console/members/{member.id}", params={"lang": "en"})).text
    assert '<a href="/console/members">Members</a>' in story
