"""The member's profile: a name any time, a birthday once (PATCH /api/v1/me, and the
/m/profile form through the same service), then only the merchant changes it
(PATCH /api/v1/members/{id})."""

from __future__ import annotations

import asyncio

import httpx

from engagement.kit.state import Services
from tests.console.helpers import csrf_token
from tests.factories import Factory

HTML = {"Accept": "text/html"}


async def _row(services: Services, member_id: str) -> tuple[str | None, str | None]:
    row = await services.pool.fetchrow(
        "SELECT name, birthday::text AS birthday FROM members WHERE id = $1", member_id)
    return row["name"], row["birthday"]


async def test_a_member_sets_the_birthday_once_then_only_the_merchant_changes_it(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, name="小林")
    first = await client.patch("/api/v1/me", json={"birthday": "1990-05-20"},
                               headers=member.headers)
    assert first.status_code == 200, first.text
    assert first.json()["birthday"] == "1990-05-20" and first.json()["name"] == "小林"
    # The same birthday again (a retry of a lost answer) is not a change: 200, nothing moves.
    again = await client.patch("/api/v1/me", json={"birthday": "1990-05-20"},
                               headers=member.headers)
    assert again.status_code == 200
    # Another birthday, or none, is refused with a code; the name sent with it is not saved.
    for birthday in ("1991-06-21", None):
        locked = await client.patch("/api/v1/me", json={"name": "林", "birthday": birthday},
                                    headers=member.headers)
        assert locked.status_code == 409, locked.text
        assert locked.json()["error"]["code"] == "birthday_locked"
    assert await _row(services, member.id) == ("小林", "1990-05-20")
    # The name alone still changes; an empty one clears it.
    named = await client.patch("/api/v1/me", json={"name": " 林小姐 "}, headers=member.headers)
    assert named.status_code == 200 and named.json()["name"] == "林小姐"
    cleared = await client.patch("/api/v1/me", json={"name": ""}, headers=member.headers)
    assert cleared.json()["name"] is None
    # The merchant changes the birthday the member set; the member still cannot.
    fixed = await client.patch(f"/api/v1/members/{member.id}",
                               json={"birthday": "1990-06-20", "name": "林"},
                               headers=shop.headers)
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["birthday"], fixed.json()["name"]) == ("1990-06-20", "林")
    assert (await client.get(f"/api/v1/members/{member.id}",
                             headers=shop.headers)).json()["birthday"] == "1990-06-20"
    assert (await client.patch("/api/v1/me", json={"birthday": "1990-05-20"},
                               headers=member.headers)).status_code == 409
    # Cleared by the merchant, the birthday is the member's to give again.
    assert (await client.patch(f"/api/v1/members/{member.id}", json={"birthday": None},
                               headers=shop.headers)).json()["birthday"] is None
    assert (await client.patch("/api/v1/me", json={"birthday": "1990-05-21"},
                               headers=member.headers)).status_code == 200
    assert await _row(services, member.id) == ("林", "1990-05-21")


async def test_bad_input_and_the_wrong_caller_change_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop, other = await factory.merchant(), await factory.merchant("Other")
    member = await factory.member(shop, name="小林", phone="13800138000")
    taken = await factory.member(shop, phone="13900139000")
    cases = [
        (client.patch("/api/v1/me", json={"birthday": "2999-01-01"}, headers=member.headers),
         422, "validation_error"),
        (client.patch("/api/v1/me", json={"birthday": "1899-12-31"}, headers=member.headers),
         422, "validation_error"),
        (client.patch("/api/v1/me", json={"birthday": 19900520}, headers=member.headers),
         422, "validation_error"),
        (client.patch("/api/v1/me", json={"phone": "13700137000"}, headers=member.headers),
         422, "validation_error"),  # a member does not change the phone the till knows
        (client.patch("/api/v1/me", json={"name": "x" * 121}, headers=member.headers),
         422, "validation_error"),
        (client.patch(f"/api/v1/members/{member.id}", json={"phone": "13900139000"},
                      headers=shop.headers), 409, "phone_taken"),
        (client.patch(f"/api/v1/members/{member.id}", json={"name": "林"},
                      headers=other.headers), 404, "not_found"),
        (client.patch(f"/api/v1/members/{member.id}", json={"name": "林"},
                      headers=member.headers), 403, "forbidden"),
        (client.patch("/api/v1/members/mbr_nope", json={"name": "林"}, headers=shop.headers),
         404, "not_found"),
        (client.patch("/api/v1/me", json={"name": "林"}), 401, "unauthorized"),
    ]
    for call, status, code in cases:
        r = await call
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    row = await services.pool.fetchrow("SELECT name, phone, birthday FROM members WHERE id = $1",
                                       member.id)
    assert (row["name"], row["phone"], row["birthday"]) == ("小林", "13800138000", None)
    assert taken.id != member.id
    # A phone nobody else has is the merchant's to change.
    moved = await client.patch(f"/api/v1/members/{member.id}", json={"phone": "13700137000"},
                               headers=shop.headers)
    assert moved.status_code == 200 and moved.json()["phone"] == "13700137000"


async def test_ten_first_birthdays_at_once_set_exactly_one(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    days = [f"1990-01-{d:02d}" for d in range(1, 11)]
    results = await asyncio.gather(*(
        client.patch("/api/v1/me", json={"birthday": day}, headers=member.headers)
        for day in days))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * 9, [r.text for r in results]
    winner = next(r.json()["birthday"] for r in results if r.status_code == 200)
    assert (await _row(services, member.id))[1] == winner


async def test_the_profile_page_saves_the_birthday_once(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, name="小林")
    assert (await client.get("/m/profile", headers=HTML)).status_code == 401  # signed out
    assert (await client.get(f"/m/enter?token={member.token}")).status_code == 303
    page = (await client.get("/m/profile", headers=HTML)).text
    assert 'name="birthday"' in page and 'value="小林"' in page
    token = csrf_token(page)
    forged = await client.post("/m/profile", data={"csrf_token": "forged", "name": "x",
                                                   "birthday": "1990-05-20"}, headers=HTML)
    assert forged.status_code == 403 and "页面已过期" in forged.text
    bad = await client.post("/m/profile", data={"csrf_token": token, "name": "小林",
                                                "birthday": "2999-01-01"}, headers=HTML)
    assert bad.status_code == 422 and "请填写正确的生日" in bad.text
    assert await _row(services, member.id) == ("小林", None)
    saved = await client.post("/m/profile", data={"csrf_token": token, "name": "林小姐",
                                                  "birthday": "1990-05-20"}, headers=HTML)
    assert saved.status_code == 303 and saved.headers["location"] == "/m/profile?saved=1"
    page = (await client.get("/m/profile?saved=1", headers=HTML)).text
    assert "已保存" in page and "1990 年 5 月 20 日" in page
    assert 'name="birthday"' not in page and "data-birthday-locked" in page
    # A post with another birthday (an old tab) is refused in words, and changes nothing.
    late = await client.post("/m/profile", data={"csrf_token": token, "name": "林",
                                                 "birthday": "1991-01-01"}, headers=HTML)
    assert late.status_code == 409 and "生日已登记" in late.text
    assert await _row(services, member.id) == ("林小姐", "1990-05-20")
    english = (await client.get("/m/profile?lang=en", headers=HTML)).text
    assert "May 20, 1990" in english and "My profile" in english
