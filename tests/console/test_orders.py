"""The console's orders: the list (newest first, paged, by store and local day), one order
with its coupons and refunds, and the refund form (whole, part, too much, posted twice)."""

from __future__ import annotations

import asyncio
import re

import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.orders import console as order_console
from tests.console import till_data
from tests.console.helpers import Console, add_user
from tests.factories import Factory


def _order_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-order-id="([^"]+)"', html)


def _refund_form(html: str, mode: str) -> dict[str, str]:
    form = re.search(rf'data-refund="{mode}".*?</form>', html, re.S)
    assert form, f"no {mode} refund form"
    fields = dict(re.findall(r'name="(refund_id|amount)" value="([^"]*)"', form.group(0)))
    return {"refund_id": fields["refund_id"], "amount": fields.get("amount", ""), "mode": mode}


async def _refunds(services: Services, merchant_id: str, order_id: str) -> list[int]:
    rows = await services.pool.fetch(
        "SELECT amount FROM order_refunds WHERE merchant_id = $1 AND order_id = $2 ORDER BY id",
        merchant_id, order_id)
    return [r["amount"] for r in rows]


async def test_the_list_shows_each_order_newest_first_with_who_where_and_money(
        app: object, shop: Console, factory: Factory, clock: FrozenClock) -> None:
    north = await till_data.store(factory, shop.merchant, "北门店")
    cashier = await till_data.till(app, factory, shop.merchant, "lin@shiguang.example",
                                   store_id=north)
    member = await factory.member(shop.merchant, name="小林", phone="13800138000")
    template = await factory.template(shop.merchant, name="满50减10", min_spend=5000)
    code = await till_data.coupon(factory, shop.merchant, template["id"], member.id)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=5000,
                          coupons=(code,), at=cashier)
    await cashier.client.aclose()
    clock.advance(minutes=5)
    await till_data.order(factory, shop.merchant, "POS-2", member_id=member.id, subtotal=1999)
    r = await shop.get("/console/orders")
    assert r.status_code == 200
    assert _order_ids(r.text) == ["POS-2", "A-1"]
    first = r.text[r.text.index('data-order-id="A-1"'):]
    first = first[:first.index("</tr>")].replace("<wbr>", "")
    for text in ("小林", "北门店", "lin@shiguang.example", "¥50.00", "¥10.00", "¥40.00",
                 "1 张券", "11-23 12:00"):
        assert text in first, text
    pos = r.text[r.text.index('data-order-id="POS-2"'):]
    assert "API / POS" in pos[:pos.index("</tr>")] and "¥19.99" in pos[:pos.index("</tr>")]
    assert '<a href="/console/orders" aria-current="page" data-nav="orders">' in r.text


async def test_a_guest_order_shows_the_masked_phone(shop: Console, factory: Factory) -> None:
    await till_data.order(factory, shop.merchant, "G-1", phone="13912345678", subtotal=800)
    r = await shop.get("/console/orders")
    row = r.text[r.text.index('data-order-id="G-1"'):]
    row = row[:row.index("</tr>")]
    assert "访客" in row and "139****5678" in row and "13912345678" not in row
    detail = await shop.get("/console/orders/G-1")
    assert detail.status_code == 200 and "139****5678" in detail.text


async def test_pages_filter_by_store_and_local_day(
        shop: Console, rival: Console, factory: Factory, services: Services,
        clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_console, "ORDERS_PER_PAGE", 2)
    north = await till_data.store(factory, shop.merchant, "北门店")
    south = await till_data.store(factory, shop.merchant, "南门店")
    member = await factory.member(shop.merchant)
    # 2026-11-23 23:59 and 2026-11-24 00:01 in Shanghai are 15:59 and 16:01 UTC.
    clock.at = clock.at.replace(hour=15, minute=59)
    placed = []
    for n in range(5):
        store = north if n % 2 == 0 else south
        placed.append((await till_data.order(factory, shop.merchant, f"D23-{n}",
                                             member_id=member.id, subtotal=1000 + n,
                                             store_id=store)).id)
    clock.advance(minutes=2)
    await till_data.order(factory, shop.merchant, "D24-0", member_id=member.id, subtotal=500,
                          store_id=north)
    # Following "next" through every page lists each order once, newest first.
    seen: list[str] = []
    path = "/console/orders"
    while True:
        r = await shop.get(path)
        assert r.status_code == 200
        seen += _order_ids(r.text)
        link = re.search(r'href="([^"]+)" rel="next"', r.text)
        if not link:
            break
        path = link.group(1).replace("&amp;", "&")
    assert seen == ["D24-0", *reversed(placed)]
    # A day is the shop's local day; a store is one of the merchant's.
    r = await shop.get("/console/orders?day=2026-11-24")
    assert _order_ids(r.text) == ["D24-0"]
    pages = []
    path = f"/console/orders?store={north}&day=2026-11-23"
    while path:
        r = await shop.get(path)
        pages.append(_order_ids(r.text))
        link = re.search(r'href="([^"]+)" rel="next"', r.text)
        path = link.group(1).replace("&amp;", "&") if link else ""
        if link:
            assert f"store={north}" in path and "day=2026-11-23" in path
    assert pages == [["D23-4", "D23-2"], ["D23-0"]]
    empty = await shop.get("/console/orders?day=2026-11-20")
    assert "data-empty" in empty.text and "没有符合条件的订单" in empty.text
    # Another merchant's store or order is not found; a bad day or page is refused.
    rival_store = await till_data.store(factory, rival.merchant, "隔壁店")
    assert (await shop.get(f"/console/orders?store={rival_store}")).status_code == 404
    assert (await rival.get("/console/orders/D23-0")).status_code == 404
    assert _order_ids((await rival.get("/console/orders")).text) == []
    assert (await shop.get("/console/orders?day=2026-13-01")).status_code == 422
    assert (await shop.get("/console/orders?before=nonsense")).status_code == 422


async def test_no_orders_yet(shop: Console) -> None:
    r = await shop.get("/console/orders")
    assert r.status_code == 200 and "还没有订单" in r.text and "data-export" not in r.text


async def test_an_order_page_shows_its_coupons_and_refunds(
        shop: Console, factory: Factory, services: Services) -> None:
    store = await till_data.store(factory, shop.merchant, "北门店")
    member = await factory.member(shop.merchant, name="小林")
    ten = await factory.template(shop.merchant, name="满50减10", stackable=True)
    five = await factory.template(shop.merchant, name="饮品5元券", stackable=True,
                                  discount={"type": "amount_off", "amount": 500})
    a = await till_data.coupon(factory, shop.merchant, ten["id"], member.id)
    b = await till_data.coupon(factory, shop.merchant, five["id"], member.id)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=12850,
                          coupons=(a, b), store_id=store)
    await till_data.refund(factory, shop.merchant, "A-1", 1000)
    r = await shop.get("/console/orders/A-1")
    assert r.status_code == 200
    coupons = r.text[r.text.index("data-order-coupons"):]
    coupons = coupons[:coupons.index("</table>")]
    assert a in coupons and b in coupons and "满50减10" in coupons and "¥5.00" in coupons
    refunds = r.text[r.text.index("data-refunds"):]
    assert "¥10.00" in refunds[:refunds.index("</table>")]
    assert 'data-refundable="10350"' in r.text  # 128.50 - 15.00 - 10.00
    assert _refund_form(r.text, "whole")["amount"] == "103.50"
    assert (await shop.get("/console/orders/nope")).status_code == 404


async def test_refunds_whole_part_too_much_and_bad_amounts(
        shop: Console, factory: Factory, services: Services) -> None:
    member = await factory.member(shop.merchant)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=10000)
    page = await shop.get("/console/orders/A-1")
    # A part refund, typed in yuan: parsed as a decimal, never a float (19.99 is 1999).
    r = await shop.post("/console/orders/A-1/refunds",
                        {**_refund_form(page.text, "part"), "amount": "19.99"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=refund_done")
    assert await _refunds(services, shop.merchant.id, "A-1") == [1999]
    page = await shop.get("/console/orders/A-1")
    assert "退款已完成" not in page.text  # the notice rides on the redirect only
    # Bad amounts change nothing and say why next to the input.
    for amount, message in [("abc", "请输入金额"), ("1.234", "请输入金额"), ("0", "必须大于 0"),
                            ("", "请填写此项")]:
        r = await shop.post("/console/orders/A-1/refunds",
                            {**_refund_form(page.text, "part"), "amount": amount})
        assert r.status_code == 422 and message in r.text, amount
    # More than is left: refused in words, with what can still be refunded.
    r = await shop.post("/console/orders/A-1/refunds",
                        {**_refund_form(page.text, "part"), "amount": "80.02"})
    assert r.status_code == 409
    assert "超过可退金额" in r.text and "¥80.01" in r.text.split("data-error-for")[1]
    assert await _refunds(services, shop.merchant.id, "A-1") == [1999]
    # The whole rest, in one button.
    whole = _refund_form(page.text, "whole")
    assert whole["amount"] == "80.01"
    r = await shop.post("/console/orders/A-1/refunds", whole)
    assert r.status_code == 303
    assert await _refunds(services, shop.merchant.id, "A-1") == [1999, 8001]
    done = await shop.get("/console/orders/A-1")
    assert "data-fully-refunded" in done.text and 'data-refund="whole"' not in done.text
    # A whole refund posted from a page made before it: more than is left now.
    r = await shop.post("/console/orders/A-1/refunds", _refund_form(page.text, "part")
                        | {"amount": "1"})
    assert r.status_code == 409 and "超过可退金额" in r.text
    # A refund id that is not one the page made is refused, not made up.
    r = await shop.post("/console/orders/A-1/refunds",
                        {"mode": "part", "amount": "1", "refund_id": "no spaces allowed"})
    assert r.status_code == 422


async def test_a_refund_form_posted_twice_refunds_once(
        shop: Console, factory: Factory, services: Services) -> None:
    member = await factory.member(shop.merchant)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=10000)
    page = await shop.get("/console/orders/A-1")
    part = {**_refund_form(page.text, "part"), "amount": "10"}
    # One after the other (a resubmitted page), then at the same moment (a double tap).
    first = await shop.post("/console/orders/A-1/refunds", part)
    again = await shop.post("/console/orders/A-1/refunds", part)
    assert first.status_code == again.status_code == 303
    assert await _refunds(services, shop.merchant.id, "A-1") == [1000]
    whole = _refund_form((await shop.get("/console/orders/A-1")).text, "whole")
    both = await asyncio.gather(*[shop.post("/console/orders/A-1/refunds", whole)
                                  for _ in range(2)])
    assert [r.status_code for r in both] == [303, 303]
    assert await _refunds(services, shop.merchant.id, "A-1") == [1000, 9000]
    # The same refund id with another amount is not a replay: refused in words.
    r = await shop.post("/console/orders/A-1/refunds", {**part, "amount": "11"})
    assert r.status_code == 409 and "已经提交过" in r.text
    assert await _refunds(services, shop.merchant.id, "A-1") == [1000, 9000]


async def test_cashiers_cannot_refund(shop: Console, factory: Factory, services: Services,
                                      app: object) -> None:
    import httpx

    from tests.console.helpers import HTML, csrf_token, login

    member = await factory.member(shop.merchant)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=1000)
    await add_user(services, shop.merchant, "cashier@shiguang.example", role="cashier")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                 base_url="http://testserver") as client:
        assert (await login(client, "cashier@shiguang.example")).status_code == 303
        for path in ("/console/orders", "/console/orders/A-1", "/console/till-summary",
                     "/console/exports/orders.csv"):
            assert (await client.get(path, headers=HTML)).status_code == 403, path
        refused = await client.get("/console/orders/A-1", headers=HTML)
        token = csrf_token(refused.text)  # the 403 page is made for this session too
        r = await client.post("/console/orders/A-1/refunds", headers=HTML, data={
            "csrf_token": token, "mode": "whole", "amount": "10", "refund_id": "x-1"})
        assert r.status_code == 403
    assert await _refunds(services, shop.merchant.id, "A-1") == []


async def test_a_whole_refund_gives_the_coupons_back_a_part_one_does_not(
        shop: Console, factory: Factory, services: Services) -> None:
    member = await factory.member(shop.merchant)
    template = await factory.template(shop.merchant, name="满50减10", min_spend=5000)
    code = await till_data.coupon(factory, shop.merchant, template["id"], member.id)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=6000,
                          coupons=(code,))
    page = await shop.get("/console/orders/A-1")
    r = await shop.post("/console/orders/A-1/refunds",
                        {**_refund_form(page.text, "part"), "amount": "20"})
    assert r.headers["location"].endswith("notice=refund_done")
    status = "SELECT status FROM coupons WHERE merchant_id = $1 AND code = $2"
    assert await services.pool.fetchval(status, shop.merchant.id, code) == "redeemed"
    whole = _refund_form((await shop.get("/console/orders/A-1")).text, "whole")
    assert whole["amount"] == "30.00"
    r = await shop.post("/console/orders/A-1/refunds", whole)
    assert r.headers["location"].endswith("notice=refund_coupons_back")
    assert await services.pool.fetchval(status, shop.merchant.id, code) == "issued"
    # Posted again, the same answer: a replay, not a second refund.
    again = await shop.post("/console/orders/A-1/refunds", whole)
    assert again.headers["location"] == r.headers["location"]
    assert await _refunds(services, shop.merchant.id, "A-1") == [2000, 3000]
    done = await shop.get(r.headers["location"])
    assert "订单用的券已退回会员账户" in done.text and 'data-status="returned"' in done.text
    assert "用券已于" in done.text  # when they went back


async def test_a_coupon_given_back_and_used_again_says_where(
        shop: Console, factory: Factory) -> None:
    member = await factory.member(shop.merchant)
    template = await factory.template(shop.merchant, name="满50减10")
    code = await till_data.coupon(factory, shop.merchant, template["id"], member.id)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=6000,
                          coupons=(code,))
    await till_data.refund(factory, shop.merchant, "A-1", 5000)  # the whole: coupon back
    await till_data.order(factory, shop.merchant, "B-2", member_id=member.id, subtotal=7000,
                          coupons=(code,))
    first = (await shop.get("/console/orders/A-1")).text
    assert 'data-status="returned"' in first and 'href="/console/orders/B-2"' in first
    second = (await shop.get("/console/orders/B-2")).text
    assert 'data-status="redeemed"' in second
