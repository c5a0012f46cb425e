"""The referrer page (/m/referrals) on the phone: four balances that are the ledger's sums,
the withdrawal form with its confirmation step, its refusals, and its empty state."""

from __future__ import annotations

import re

import httpx

from engagement.kit.state import Services
from tests.console.helpers import csrf_token
from tests.factories import Factory
from tests.referrals.withdrawal_helpers import balance, earner, ledger_sums, withdraw

HTML = {"Accept": "text/html"}


def _shown(page: str, name: str) -> str:
    found = re.search(rf"data-{name}>([^<]*)<", page)
    assert found, name
    return found.group(1)


def _yuan(cents: int) -> str:
    yuan, rest = divmod(cents, 100)
    return f"¥{yuan}" if rest == 0 else f"¥{yuan}.{rest:02d}".rstrip("0")


async def _open(client: httpx.AsyncClient, token: str) -> str:
    client.cookies.clear()
    assert (await client.get(f"/m/enter?token={token}")).status_code == 303
    page = await client.get("/m/referrals", headers=HTML)
    assert page.status_code == 200
    return page.text


async def test_a_member_withdraws_through_the_confirmation_step(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop, member = await earner(factory, services, available=1000, min_withdrawal=200)
    page = await _open(client, member.token)
    assert _shown(page, "available") == "¥10" and _shown(page, "requested") == "¥0"
    assert "data-withdraw-form" in page and "最低 ¥2" in page
    token = csrf_token(page)

    # Refusals: below the minimum, more than available, not money. Nothing is written.
    for amount, status, text in (("1.5", 422, "每次提现不少于 ¥2"),
                                 ("10.01", 409, "最多可提现 ¥10"),
                                 ("abc", 422, "请输入金额"), ("", 422, "请填写此项"),
                                 ("0", 422, "请输入大于 0 的金额")):
        r = await client.post("/m/referrals/withdrawals",
                              data={"csrf_token": token, "amount": amount})
        assert r.status_code == status, (amount, r.text[-500:])
        assert text in r.text and "data-withdraw-error" in r.text, amount
    forged = await client.post("/m/referrals/withdrawals",
                               data={"csrf_token": "forged", "amount": "6"})
    assert forged.status_code == 403
    assert await services.pool.fetchval("SELECT count(*) FROM commission_withdrawals") == 0

    # Step one shows the confirmation; nothing leaves available yet.
    step = await client.post("/m/referrals/withdrawals", data={"csrf_token": token,
                                                               "amount": "6"})
    assert step.status_code == 200 and "data-withdraw-confirm" in step.text
    assert _shown(step.text, "confirm-amount") == "¥6"
    assert (await balance(client, member))["available"] == 1000
    key = re.search(r'name="key" value="([^"]+)"', step.text)
    assert key
    confirm = {"csrf_token": csrf_token(step.text), "amount": "¥6", "key": key.group(1),
               "step": "confirm"}
    # Step two, tapped twice: one withdrawal.
    for _ in range(2):
        done = await client.post("/m/referrals/withdrawals", data=confirm)
        assert done.status_code == 303
        assert done.headers["location"].startswith("/m/referrals?notice=withdrawal_requested")
    assert await services.pool.fetchval(
        "SELECT count(*) FROM commission_withdrawals WHERE member_id = $1", member.id) == 1
    after = (await client.get(done.headers["location"], headers=HTML)).text
    assert "提现申请已提交" in after
    assert _shown(after, "available") == "¥4" and _shown(after, "requested") == "¥6"
    assert 'data-status="requested"' in after
    # The page shows the ledger's sums, as the API does.
    sums = await ledger_sums(services, member.id)
    api = await balance(client, member)
    for name in ("available", "requested", "paid"):
        assert _shown(after, name) == _yuan(sums[name]) == _yuan(api[name])

    # The merchant pays it: the page says paid and how.
    wid = await services.pool.fetchval("SELECT id FROM commission_withdrawals")
    r = await client.post(f"/api/v1/withdrawals/{wid}/pay",
                          json={"method": "alipay", "reference": "2026120422001"},
                          headers=shop.headers)
    assert r.status_code == 200
    paid = await _open(client, member.token)
    assert _shown(paid, "paid") == "¥6" and _shown(paid, "requested") == "¥0"
    assert "已打款" in paid and "支付宝" in paid
    # ¥4 left is above the ¥2 minimum: still the form.
    assert "data-withdraw-form" in paid

    # Below the minimum: the empty state with the one action that fills it.
    assert (await withdraw(client, member, 300)).status_code == 201
    low = await _open(client, member.token)
    assert "data-withdraw-empty" in low and 'data-action="go-share"' in low
    assert "满 ¥2 即可申请提现" in low


async def test_empty_state_and_english(client: httpx.AsyncClient, factory: Factory,
                                       services: Services) -> None:
    shop = await factory.merchant()
    from tests.referrals.helpers import program
    await program(factory, shop)
    member = await factory.member(shop)
    page = await _open(client, member.token)
    assert "data-withdraw-empty" in page and "还没有可提现的佣金" in page
    r = await client.post("/m/referrals/withdrawals",
                          data={"csrf_token": csrf_token(page), "amount": "1"})
    assert r.status_code == 409 and "现在没有可提现的佣金" in r.text
    english = await client.get("/m/referrals?lang=en", headers=HTML)
    assert "Withdraw" in english.text and "还没有可提现的佣金" not in english.text
