"""The console's withdrawal page and its held-joins page, over HTTP against the real
servers: list by status with empty states, pay with a method and reference, reject with a
reason (the amount goes back), refuse a second verdict, approve or reject held joins."""

from __future__ import annotations

import httpx

from engagement.kit.state import Services
from tests.console.helpers import Console, add_user, signed_in
from tests.factories import Factory
from tests.referrals.helpers import commissions, order, program, share_code
from tests.referrals.withdrawal_helpers import balance, earner, join_from, withdraw


async def test_withdrawals_page_pays_and_rejects(shop: Console, factory: Factory,
                                                 services: Services) -> None:
    empty = await shop.get("/console/withdrawals")
    assert empty.status_code == 200 and "没有待处理的提现" in empty.text
    assert 'data-nav="withdrawals"' in empty.text and 'data-nav="bindings"' in empty.text
    _, member = await earner(factory, services, available=1000, shop=shop.merchant,
                             name="陈一", phone="13700001234")
    first = (await withdraw(factory.client, member, 600)).json()
    listed = await shop.get("/console/withdrawals")
    assert f'data-withdrawal-id="{first["id"]}"' in listed.text
    assert "陈一" in listed.text and "¥6" in listed.text

    # Bad input: no method, a reason left blank. Nothing changes.
    r = await shop.post(f"/console/withdrawals/{first['id']}/pay", {"reference": "x"})
    assert r.status_code == 422 and "请选择打款方式" in r.text
    r = await shop.post(f"/console/withdrawals/{first['id']}/pay",
                        {"method": "wechat", "reference": "x" * 101})
    assert r.status_code == 422 and "交易单号最多 100 个字符" in r.text
    assert 'aria-invalid="true"' in r.text
    r = await shop.post(f"/console/withdrawals/{first['id']}/reject", {"reason": " "})
    assert r.status_code == 422 and "请填写此项" in r.text
    assert (await balance(factory.client, member))["requested"] == 600

    r = await shop.post(f"/console/withdrawals/{first['id']}/reject",
                        {"reason": "信息不全，请到店核对"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=withdrawal_rejected")
    assert (await balance(factory.client, member))["available"] == 1000
    rejected = await shop.get(r.headers["location"])
    assert "信息不全，请到店核对" in rejected.text and "金额已退回" in rejected.text
    # A second verdict on it is refused with a clear notice.
    again = await shop.post(f"/console/withdrawals/{first['id']}/pay", {"method": "cash"})
    assert again.status_code == 303 and again.headers["location"].endswith(
        "notice=withdrawal_decided")
    assert (await shop.get(again.headers["location"])).text.count("已经处理过了") == 1

    second = (await withdraw(factory.client, member, 1000)).json()
    r = await shop.post(f"/console/withdrawals/{second['id']}/pay",
                        {"method": "alipay", "reference": "2026120400012"})
    assert r.status_code == 303
    paid = await shop.get("/console/withdrawals?status=paid")
    assert "支付宝" in paid.text and "2026120400012" in paid.text
    shown = await balance(factory.client, member)
    assert (shown["available"], shown["requested"], shown["paid"]) == (0, 0, 1000)
    assert "没有待处理的提现" in (await shop.get("/console/withdrawals")).text
    # Another merchant's console never reaches it.
    other = await factory.merchant("别家")
    await add_user(services, other, "boss@other.example")
    app = factory.client._transport.app  # type: ignore[attr-defined]
    async with signed_in(app, other, "boss@other.example") as them:
        r = await them.post(f"/console/withdrawals/{second['id']}/reject", {"reason": "x"})
        assert r.status_code == 404


async def test_min_withdrawal_in_the_program_form(shop: Console, factory: Factory) -> None:
    base = {"enabled": "on", "level-1": "10", "trigger": "every_order", "hold_days": "7"}
    r = await shop.post("/console/referrals/program", {**base, "min_withdrawal": "0"})
    assert r.status_code == 422
    r = await shop.post("/console/referrals/program", {**base, "min_withdrawal": "abc"})
    assert r.status_code == 422 and "请输入金额" in r.text
    r = await shop.post("/console/referrals/program", {**base, "min_withdrawal": "20.5"})
    assert r.status_code == 303
    got = (await factory.client.get("/api/v1/referral-program",
                                    headers=shop.merchant.headers)).json()
    assert got["min_withdrawal"] == 2050
    page = (await shop.get("/console/referrals")).text
    assert 'name="min_withdrawal" inputmode="decimal" value="20.5"' in page


async def test_held_joins_are_approved_or_rejected(shop: Console, factory: Factory,
                                                   services: Services,
                                                   client: httpx.AsyncClient) -> None:
    empty = await shop.get("/console/bindings")
    assert empty.status_code == 200 and "没有待审核的绑定" in empty.text
    await program(factory, shop.merchant, levels=[{"rate_bp": 1000}],
                  max_joins_per_ip_per_hour=1)
    sharer = await factory.member(shop.merchant, name="林分享")
    code = await share_code(factory, sharer)
    joined = [await join_from(services, shop.merchant, f"1390000000{n}", code, "203.0.113.7",
                              name=f"好友{n}") for n in range(3)]
    assert [status for _, status in joined] == ["active", "held", "held"]
    for n, (member_id, _) in enumerate(joined):
        assert (await order(client, shop.merchant, f"o{n}", member_id, 10_000)).status_code \
            == 201
    page = await shop.get("/console/bindings")
    assert page.text.count("data-binding=") == 2
    assert "同一网络一小时内通过同一个分享链接加入的人太多" in page.text
    # The tests' clock stands still: all three joined at the same moment.
    assert "已有 3 人加入" in page.text and "林分享" in page.text and "好友1" in page.text
    assert "joins_per_ip" not in page.text.replace('data-reason="joins_per_ip"', "")

    approved, rejected = joined[1][0], joined[2][0]
    r = await shop.post(f"/console/bindings/{approved}/approve")
    assert r.status_code == 303 and r.headers["location"].endswith("notice=binding_approved")
    r = await shop.post(f"/console/bindings/{rejected}/reject")
    assert r.status_code == 303 and r.headers["location"].endswith("notice=binding_rejected")
    again = await shop.post(f"/console/bindings/{rejected}/approve")
    assert again.headers["location"].endswith("notice=binding_reviewed")
    ledger = await commissions(client, shop.merchant, sharer.id)
    assert ledger["balance"]["held"] == 0 and ledger["balance"]["pending"] == 2000
    assert sorted(i["status"] for i in ledger["items"]) == ["pending", "pending", "rejected"]
    done = await shop.get("/console/bindings")
    assert "没有待审核的绑定" in done.text
    # Roles: a cashier is refused both pages.
    await add_user(services, shop.merchant, "cashier@shop.example", role="cashier")
    app = client._transport.app  # type: ignore[attr-defined]
    async with signed_in(app, shop.merchant, "cashier@shop.example") as cashier:
        for path in ("/console/bindings", "/console/withdrawals"):
            assert (await cashier.get(path)).status_code == 403
