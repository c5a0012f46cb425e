"""Owners manage their staff in the console: add (a typed password, or one generated and
shown once), change a role or store, remove (which ends the person's sessions at once); an
owner never removes or demotes themselves, and the shop always keeps an owner, also when two
owners act at the same moment."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from engagement.console import sessions
from engagement.kit.constants import CONSOLE_COOKIE, CONSOLE_USER_SESSIONS_KEY
from engagement.kit.state import Services
from tests.console.helpers import Console, add_user, login, signed_in


async def _staff(services: Services, merchant_id: str) -> dict[str, dict[str, Any]]:
    rows = await services.pool.fetch(
        "SELECT * FROM merchant_users WHERE merchant_id = $1 ORDER BY created_at, id",
        merchant_id)
    return {r["email"]: dict(r) for r in rows}


async def _store(client: httpx.AsyncClient, shop: Console, name: str) -> str:
    r = await client.post("/api/v1/stores", json={"name": name}, headers=shop.merchant.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_an_owner_adds_a_cashier_with_a_generated_password_shown_once(
        app: Any, shop: Console, client: httpx.AsyncClient, services: Services) -> None:
    page = await shop.get("/console/staff")
    assert page.status_code == 200
    assert "目前只有你一个人" in page.text  # the owner alone: the page says what to do
    assert 'data-email="owner@shiguang.example"' in page.text and "（你）" in page.text
    store = await _store(client, shop, "人民路店")
    r = await shop.post("/console/staff", {"email": " Cashier@Shiguang.example ",
                                           "role": "cashier", "store_id": store,
                                           "password": ""})
    assert r.status_code == 200
    assert "员工已添加" in r.text and "人民路店" in r.text
    password = re.search(r'value="([^"]+)" readonly data-new-password', r.text)
    assert password, r.text
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", password.group(1))
    assert "http://testserver/console/login" in r.text
    row = (await _staff(services, shop.merchant.id))["cashier@shiguang.example"]
    assert row["role"] == "cashier" and row["store_id"] == store
    assert password.group(1) not in row["password_hash"]  # kept as a hash only
    # The list shows who, which role, which store and that they have never signed in.
    listed = await shop.get("/console/staff")
    line = re.search(r'<tr data-staff-id="[^"]+" data-email="cashier@shiguang.example">'
                     r'.*?</tr>', listed.text, re.S)
    assert line and "收银员" in line.group(0) and "人民路店" in line.group(0)
    assert "还没登录过" in line.group(0)
    assert "目前只有你一个人" not in listed.text
    # The generated password signs them in, to the till.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                 base_url="http://testserver") as browser:
        r = await login(browser, "cashier@shiguang.example", password.group(1))
        assert r.status_code == 303 and r.headers["location"] == "/till"
    listed = await shop.get("/console/staff")
    assert "2026-11-23 12:00" in listed.text  # last sign-in, in the shop's time zone


async def test_a_typed_password_is_not_shown_back(shop: Console) -> None:
    r = await shop.post("/console/staff", {"email": "manager@shiguang.example",
                                           "role": "manager", "password": "typed by owner"})
    assert r.status_code == 200 and "员工已添加" in r.text
    assert "typed by owner" not in r.text and "data-new-password" not in r.text
    assert "请把你设置的密码当面告诉 TA" in r.text


async def test_bad_staff_forms_say_what_is_wrong_and_change_nothing(
        shop: Console, rival: Console, client: httpx.AsyncClient,
        services: Services) -> None:
    theirs = await _store(client, rival, "隔壁店")
    before = await _staff(services, shop.merchant.id)
    cases = [
        ({"email": "not an email", "role": "cashier"}, 422, "email", "请输入有效的邮箱"),
        ({"email": "", "role": "cashier"}, 422, "email", "请填写此项"),
        ({"email": "a@shiguang.example", "role": "boss"}, 422, "role", "请选择角色"),
        ({"email": "a@shiguang.example", "role": "cashier", "password": "short"}, 422,
         "password", "密码至少 10 个字符"),
        ({"email": "a@shiguang.example", "role": "cashier", "store_id": theirs}, 422,
         "store_id", "请选择列表中的门店"),
        ({"email": "boss@rival.example", "role": "cashier"}, 409, "email",
         "这个邮箱已经有账号了"),
    ]
    for form, status, field, message in cases:
        r = await shop.post("/console/staff", form)
        assert r.status_code == status, (form, r.text[:300])
        assert f'data-error-for="{field}"' in r.text and message in r.text, form
        assert "请按提示修改后再提交" in r.text
        assert "short" not in r.text.split('id="password"')[1].split(">")[0]  # not echoed
    assert await _staff(services, shop.merchant.id) == before


async def test_a_role_or_store_change_applies_to_open_sessions_at_once(
        app: Any, shop: Console, client: httpx.AsyncClient, services: Services) -> None:
    store = await _store(client, shop, "人民路店")
    user_id = await add_user(services, shop.merchant, "c@shiguang.example", role="cashier")
    async with signed_in(app, shop.merchant, "c@shiguang.example") as cashier:
        assert (await cashier.get("/console/coupons")).status_code == 403
        page = await shop.get(f"/console/staff/{user_id}")
        assert page.status_code == 200 and 'value="cashier" checked' in page.text
        r = await shop.post(f"/console/staff/{user_id}", {"role": "manager",
                                                           "store_id": store})
        assert r.status_code == 303
        assert r.headers["location"] == f"/console/staff/{user_id}?notice=staff_saved"
        # The same session, its very next request: a manager now.
        assert (await cashier.get("/console/coupons")).status_code == 200
        row = (await _staff(services, shop.merchant.id))["c@shiguang.example"]
        assert row["role"] == "manager" and row["store_id"] == store
        r = await shop.post(f"/console/staff/{user_id}", {"role": "cashier", "store_id": ""})
        assert r.status_code == 303
        assert (await cashier.get("/console/coupons")).status_code == 403
        row = (await _staff(services, shop.merchant.id))["c@shiguang.example"]
        assert row["role"] == "cashier" and row["store_id"] is None
        r = await shop.post(f"/console/staff/{user_id}", {"role": "king"})
        assert r.status_code == 422 and "请选择角色" in r.text


async def test_removing_a_cashier_ends_their_open_sessions_at_once(
        app: Any, shop: Console, services: Services) -> None:
    user_id = await add_user(services, shop.merchant, "c@shiguang.example", role="cashier")
    async with signed_in(app, shop.merchant, "c@shiguang.example") as till, \
            signed_in(app, shop.merchant, "c@shiguang.example") as phone:
        cookies = [b.client.cookies.get(CONSOLE_COOKIE, path="/") for b in (till, phone)]
        keys = [sessions._key(c) for c in cookies if c]
        assert len(keys) == 2 and all([await services.redis.exists(k) for k in keys])
        index = CONSOLE_USER_SESSIONS_KEY.format(user_id=user_id)
        assert {k.decode() for k in await services.redis.smembers(index)} == set(keys)
        # The till's calls work with the session...
        r = await till.client.get("/api/v1/stores")
        assert r.status_code == 200
        r = await shop.post(f"/console/staff/{user_id}/remove")
        assert r.status_code == 303
        after = r.headers["location"]
        assert after == "/console/staff?notice=staff_removed"
        # ...and the sessions are gone from Redis at once, not only refused when read.
        assert [await services.redis.exists(k) for k in keys] == [0, 0]
        assert not await services.redis.exists(index)
        # The very next request of each open session: signed out.
        r = await till.client.get("/api/v1/stores")
        assert r.status_code == 401
        r = await phone.get("/console/coupons")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        # They cannot sign in again, and the list no longer shows them.
        r = await login(phone.client, "c@shiguang.example")
        assert r.status_code == 401
    listed = await shop.get(after)
    assert "c@shiguang.example" not in listed.text and "已移除" in listed.text
    row = (await _staff(services, shop.merchant.id))["c@shiguang.example"]
    assert row["removed_at"] is not None
    assert (await shop.get(f"/console/staff/{user_id}")).status_code == 404
    # A removed email may be added again: a new person, a new password.
    r = await shop.post("/console/staff", {"email": "c@shiguang.example", "role": "manager",
                                           "password": "a brand new one"})
    assert r.status_code == 200, r.text
    rows = await services.pool.fetch(
        "SELECT id, role, removed_at FROM merchant_users WHERE email = 'c@shiguang.example'")
    assert len(rows) == 2 and sum(r["removed_at"] is None for r in rows) == 1
    async with signed_in(app, shop.merchant, "c@shiguang.example", "a brand new one") as again:
        assert (await again.get("/console/coupons")).status_code == 200


async def test_signing_out_takes_the_session_off_the_users_list(
        app: Any, shop: Console, services: Services) -> None:
    user_id = await add_user(services, shop.merchant, "c@shiguang.example", role="cashier")
    index = CONSOLE_USER_SESSIONS_KEY.format(user_id=user_id)
    async with signed_in(app, shop.merchant, "c@shiguang.example") as cashier:
        assert await services.redis.scard(index) == 1
        assert (await cashier.post("/console/logout")).status_code == 303
        assert await services.redis.scard(index) == 0


async def test_an_owner_cannot_remove_or_demote_themselves(
        shop: Console, services: Services) -> None:
    me = (await _staff(services, shop.merchant.id))[shop.email]["id"]
    page = await shop.get(f"/console/staff/{me}")
    assert page.status_code == 200
    assert "data-self-hint" in page.text and 'data-action="remove-staff"' not in page.text
    await add_user(services, shop.merchant, "partner@shiguang.example")  # a second owner
    for form in ({"role": "manager"}, {"role": "cashier"}):
        r = await shop.post(f"/console/staff/{me}", form)
        assert r.status_code == 409 and "不能修改或移除自己的店主身份" in r.text
    r = await shop.post(f"/console/staff/{me}/remove")
    assert r.status_code == 409 and "不能修改或移除自己的店主身份" in r.text
    row = (await _staff(services, shop.merchant.id))[shop.email]
    assert row["role"] == "owner" and row["removed_at"] is None
    # Their own store may change.
    r = await shop.post(f"/console/staff/{me}", {"role": "owner", "store_id": ""})
    assert r.status_code == 303


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
        app: Any, shop: Console, services: Services) -> None:
    """Each owner's request finds the other still an owner when it starts; the merchant's
    staff lock makes the second wait, and it then finds its actor demoted."""
    await add_user(services, shop.merchant, "partner@shiguang.example")
    ids = {e: r["id"] for e, r in (await _staff(services, shop.merchant.id)).items()}
    async with signed_in(app, shop.merchant, "partner@shiguang.example") as partner:
        for round_ in range(6):
            remove = round_ == 5
            await services.pool.execute(
                "UPDATE merchant_users SET role = 'owner' WHERE merchant_id = $1",
                shop.merchant.id)
            if remove:
                results = await asyncio.gather(
                    shop.post(f"/console/staff/{ids['partner@shiguang.example']}/remove"),
                    partner.post(f"/console/staff/{ids[shop.email]}/remove"))
            else:
                results = await asyncio.gather(
                    shop.post(f"/console/staff/{ids['partner@shiguang.example']}",
                              {"role": "manager"}),
                    partner.post(f"/console/staff/{ids[shop.email]}", {"role": "manager"}))
            outcome = [(r.status_code, r.headers.get("location")) for r in results]
            owners = await services.pool.fetchval(
                "SELECT count(*) FROM merchant_users WHERE merchant_id = $1 "
                "AND role = 'owner' AND removed_at IS NULL", shop.merchant.id)
            assert owners == 1, (round_, outcome)
            # One change went through; the other was refused (its actor no longer an
            # owner), or, when removed meanwhile, sent to sign in.
            won = [o for o in outcome if o[1] and "notice=staff_" in o[1]]
            assert len(won) == 1, (round_, outcome)


async def test_another_merchants_staff_cannot_be_touched(
        shop: Console, rival: Console, services: Services) -> None:
    theirs = await add_user(services, rival.merchant, "c@rival.example", role="cashier")
    before = await _staff(services, rival.merchant.id)
    assert (await shop.get(f"/console/staff/{theirs}")).status_code == 404
    assert (await shop.post(f"/console/staff/{theirs}", {"role": "owner"})).status_code == 404
    assert (await shop.post(f"/console/staff/{theirs}/remove")).status_code == 404
    assert await _staff(services, rival.merchant.id) == before
    assert "c@rival.example" not in (await shop.get("/console/staff")).text

