"""Finding the customer at the till: by phone, 手机尾号, member code and coupon code, with the
coupons usable now; refusals with the order API's codes; nothing of another merchant."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.constants import MEMBER_CODE_KEY
from engagement.kit.state import Services
from engagement.members import member_codes
from engagement.members import queries as member_queries
from tests.factories import Factory, MerchantHandle
from tests.till.helpers import cashier, give_coupon

LOOKUP = "/api/v1/members/lookup"


async def _lookup(client: httpx.AsyncClient, shop: MerchantHandle, query: str,
                  **params: str) -> httpx.Response:
    return await client.get(LOOKUP, params={"query": query, **params}, headers=shop.headers)


def _codes(card: dict[str, Any]) -> list[str]:
    return sorted(c["code"] for c in card["coupons"])


async def test_a_full_phone_finds_the_member_with_the_coupons_usable_now(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock,
        services: Services) -> None:
    shop = await factory.merchant("拾光咖啡")
    member = await factory.member(shop, phone="13800138000", name="王小明")
    other = await factory.member(shop, phone="13900139000")
    usable = await give_coupon(factory, shop, member, name="满50减20", min_spend=5000,
                               discount={"type": "amount_off", "amount": 2000})
    percent = await give_coupon(factory, shop, member, name="八折券", valid_days=None,
                                discount={"type": "percent_off", "percent": 20})
    used = await give_coupon(factory, shop, member, name="已用券")
    r = await client.post(f"/api/v1/coupons/{used}/redeem", json={}, headers=shop.headers)
    assert r.status_code == 200, r.text
    await give_coupon(factory, shop, other, name="别人的券")
    short = await give_coupon(factory, shop, member, name="一天券", valid_days=1)
    clock.advance(days=2)  # the one-day coupon is past its expiry (the cron has not run)

    for typed in ("13800138000", " 138 0013 8000 ", "138-0013-8000"):
        r = await _lookup(client, shop, typed)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["kind"] == "phone" and body["guest_phone"] is None
        [card] = body["items"]
        assert card["member"] == {"id": member.id, "name": "王小明", "phone": "*******8000",
                                  "tier": None, "points": 0}
        assert _codes(card) == sorted([usable, percent])
        assert short not in _codes(card)
    by_code = {c["code"]: c for c in card["coupons"]}
    assert by_code[usable]["discount"] == {"type": "amount_off", "amount": 2000}
    assert by_code[usable]["min_spend"] == 5000 and by_code[usable]["stackable"] is False
    assert by_code[percent]["expires_at"] is None
    # Soonest to expire first; a coupon without an end last.
    assert [c["code"] for c in card["coupons"]] == [usable, percent]


async def test_a_phone_of_no_member_offers_a_guest_order(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    rival = await factory.merchant("隔壁奶茶")
    await factory.member(rival, phone="13700137000")  # a member elsewhere is a guest here
    for typed in ("13700137000", "+86 137 0013 7000", "8613700137000"):
        r = await _lookup(client, shop, typed)
        assert r.status_code == 200, r.text
        assert r.json() == {"kind": "phone", "items": [], "guest_phone": "13700137000",
                            "truncated": False}
    # A number that is no mainland mobile cannot take a guest order (it cannot join).
    r = await _lookup(client, shop, "02188886666")
    assert r.status_code == 200 and r.json()["guest_phone"] is None
    assert r.json()["items"] == []
    # A member found by the number as joining stores it.
    member = await factory.member(shop, phone="13600136000")
    r = await _lookup(client, shop, "+8613600136000")
    assert r.json()["items"][0]["member"]["id"] == member.id


async def test_the_last_four_digits_list_every_member_they_match(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    rival = await factory.merchant("隔壁奶茶")
    sharing = [await factory.member(shop, phone=p, name=f"会员{i}") for i, p in
               enumerate(("13800008000", "13900008000", "18600008000"))]
    await factory.member(shop, phone="13800001234")
    await factory.member(shop)  # no phone at all
    await factory.member(rival, phone="13500008000")
    code = await give_coupon(factory, shop, sharing[1])
    r = await _lookup(client, shop, "8000")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "phone_tail" and body["guest_phone"] is None
    assert body["truncated"] is False
    assert [c["member"]["id"] for c in body["items"]] == [m.id for m in reversed(sharing)]
    assert [_codes(c) for c in body["items"]] == [[], [code], []]
    assert {c["member"]["phone"] for c in body["items"]} == {"*******8000"}
    none = await _lookup(client, shop, "4321")
    assert none.status_code == 200 and none.json()["items"] == []
    assert none.json()["guest_phone"] is None


async def test_a_common_tail_is_capped_and_says_so(client: httpx.AsyncClient,
                                                   factory: Factory) -> None:
    shop = await factory.merchant()
    for i in range(12):
        await factory.member(shop, phone=f"138{i:04d}0777")
    r = await _lookup(client, shop, "0777")
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 10 and r.json()["truncated"] is True


async def test_a_member_code_finds_its_member_until_it_expires(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    rival = await factory.merchant("隔壁奶茶")
    member = await factory.member(shop, phone="13800138000", name="李雷")
    coupon = await give_coupon(factory, shop, member)
    code, _ = await member_codes.issue(services.redis, shop.id, member.id, services.clock.now())

    r = await _lookup(client, shop, code)
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "member_code"
    [card] = r.json()["items"]
    assert card["member"]["id"] == member.id and _codes(card) == [coupon]
    direct = await client.get(f"/api/v1/member-codes/{code}", headers=shop.headers)
    assert direct.status_code == 200, direct.text
    assert direct.json() == card

    # Another merchant's till never resolves it, by either route.
    assert (await _lookup(client, rival, code)).json()["error"]["code"] \
        == "member_code_not_found"
    assert (await client.get(f"/api/v1/member-codes/{code}",
                             headers=rival.headers)).status_code == 404
    # A code Redis has let expire is gone.
    await services.redis.pexpire(MEMBER_CODE_KEY.format(merchant_id=shop.id, code=code), 1)
    await asyncio.sleep(0.05)
    for r in (await _lookup(client, shop, code),
              await client.get(f"/api/v1/member-codes/{code}", headers=shop.headers)):
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "member_code_not_found"
    for unknown in ("123456789012345678", "12345", "abc"):
        r = await client.get(f"/api/v1/member-codes/{unknown}", headers=shop.headers)
        assert r.status_code == 404, unknown


async def test_an_18_digit_phone_is_still_found_by_phone(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, phone="861380013800012345")
    r = await _lookup(client, shop, "861380013800012345")
    assert r.status_code == 200 and r.json()["items"][0]["member"]["id"] == member.id


async def test_a_coupon_code_finds_its_owner_with_the_coupon_marked(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, name="韩梅梅")
    code = await give_coupon(factory, shop, member)
    other = await give_coupon(factory, shop, member)
    for typed in (code, code.lower(), f" {code} "):
        r = await _lookup(client, shop, typed)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["kind"] == "coupon_code"
        [card] = body["items"]
        assert card["member"]["id"] == member.id and card["matched_code"] == code
        assert _codes(card) == sorted([code, other])
    # The member on screen scans their own coupon: fine.
    r = await _lookup(client, shop, code, member_id=member.id)
    assert r.status_code == 200 and r.json()["items"][0]["matched_code"] == code


async def test_a_coupon_that_cannot_be_used_is_refused_with_its_reason(
        client: httpx.AsyncClient, factory: Factory, clock: FrozenClock,
        services: Services) -> None:
    shop = await factory.merchant()
    rival = await factory.merchant("隔壁奶茶")
    member = await factory.member(shop)
    someone = await factory.member(shop)
    used = await give_coupon(factory, shop, member)
    assert (await client.post(f"/api/v1/coupons/{used}/redeem", json={},
                              headers=shop.headers)).status_code == 200
    theirs = await give_coupon(factory, shop, someone)
    void = await give_coupon(factory, shop, member)
    await services.pool.execute("UPDATE coupons SET status = 'void' WHERE code = $1", void)
    short = await give_coupon(factory, shop, member, valid_days=1)
    clock.advance(days=1)  # exactly at its end: no longer usable
    clock.advance(hours=-3)
    later = await give_coupon(factory, shop, member)  # valid from now on...
    clock.advance(hours=3)
    rivals = await give_coupon(factory, rival, await factory.member(rival))

    async def refusal(code: str, **params: str) -> tuple[int, str]:
        r = await _lookup(client, shop, code, **params)
        return r.status_code, r.json()["error"]["code"]

    assert await refusal(used) == (409, "coupon_already_redeemed")
    assert await refusal(void) == (409, "coupon_void")
    assert await refusal(short) == (409, "coupon_expired")
    assert await refusal(theirs, member_id=member.id) == (409, "coupon_not_owned")
    assert await refusal(rivals) == (404, "coupon_code_not_found")
    assert await refusal("ZZZZZZZZZZZZ") == (404, "coupon_code_not_found")
    clock.advance(hours=-6)  # ...so six hours earlier it is not valid yet
    assert await refusal(later) == (409, "coupon_not_yet_valid")


async def test_bad_queries_are_refused_and_callers_are_checked(
        client: httpx.AsyncClient, factory: Factory, app: object) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop, phone="13800138000")
    for params in ({}, {"query": ""}, {"query": "x" * 65}, {"query": "13800138000",
                                                            "extra": "1"}):
        r = await client.get(LOOKUP, params=params, headers=shop.headers)
        assert r.status_code == 422, params
        assert r.json()["error"]["code"] == "validation_error"
    for nonsense in ("!!!", "手机", "123"):
        r = await _lookup(client, shop, nonsense)
        assert r.status_code == 422, nonsense
        assert r.json()["error"]["code"] == "lookup_query_not_understood"
    # No credentials, a member's token: refused, before anything is looked up.
    assert (await client.get(LOOKUP, params={"query": "13800138000"})).status_code == 401
    r = await client.get(LOOKUP, params={"query": "13800138000"}, headers=member.headers)
    assert r.status_code == 403
    # The till page's staff session works, for its own merchant only.
    browser, _ = await cashier(app, factory, shop)
    rival = await factory.merchant("隔壁奶茶")
    rival_browser, _ = await cashier(app, factory, rival, email="c@rival.example")
    try:
        r = await browser.get(LOOKUP, params={"query": "13800138000"})
        assert r.status_code == 200 and r.json()["items"][0]["member"]["id"] == member.id
        r = await rival_browser.get(LOOKUP, params={"query": "13800138000"})
        assert r.status_code == 200
        assert r.json()["items"] == [] and r.json()["guest_phone"] == "13800138000"
        r = await rival_browser.get(LOOKUP, params={"query": "8000"})
        assert r.json()["items"] == []
    finally:
        await browser.aclose()
        await rival_browser.aclose()


class _Explain:
    """A connection that explains the statements a query function runs, instead of running
    them: the plan of the real SQL, not of a copy."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.conn.fetch(f"EXPLAIN {sql}", *args))


async def test_the_tail_search_reads_its_index(services: Services, factory: Factory) -> None:
    shop = await factory.merchant()
    # A shop of 5,000 members with the statistics a live table has: every plan the planner
    # could pick (reading the merchant's members newest first and filtering, a full scan)
    # costs more than the tail index, on any server's cost settings.
    await services.pool.execute(
        """INSERT INTO members (id, merchant_id, external_id, phone)
           SELECT 'mbr_tail' || lpad(i::text, 5, '0'), $1, 'tail-' || i,
                  '139' || lpad(i::text, 8, '0')
           FROM generate_series(1, 5000) AS i""", shop.id)
    await services.pool.execute("ANALYZE members")
    async with services.pool.acquire() as conn:
        rows = await member_queries.members_by_phone_tail(_Explain(conn), shop.id, "8000", 11)
    plan = "\n".join(r[0] for r in rows)
    assert "members_merchant_phone_tail_idx" in plan, plan


async def test_a_member_code_lookup_needs_no_phone(client: httpx.AsyncClient,
                                                   factory: Factory,
                                                   services: Services) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)  # joined without a phone
    code, expires_at = await member_codes.issue(services.redis, shop.id, member.id,
                                                services.clock.now())
    assert expires_at - services.clock.now() <= timedelta(minutes=5)
    r = await client.get(f"/api/v1/member-codes/{code}", headers=shop.headers)
    assert r.status_code == 200 and r.json()["member"]["phone"] is None
