"""Invariant 7: binding once, at joining, to an older member; no self-referral, no cycles;
suspicious joins held for review; a daily cap on paid referrals."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.members import service as members
from engagement.members.schemas import MemberCreate
from referrals import binding
from referrals.errors import NotNewMember, SelfReferral
from tests.factories import Factory, MerchantHandle
from tests.referrals.helpers import commissions, join, order, program, share_code


async def _referrer(client: httpx.AsyncClient, shop: MerchantHandle, member_id: str) -> str | None:
    r = await client.get(f"/api/v1/members/{member_id}", headers=shop.headers)
    referrer: str | None = r.json()["referrer_id"]
    return referrer


async def _join_page(services: Services, shop: MerchantHandle, phone: str, code: str | None,
                     ip: str | None) -> tuple[str, binding.Bound | None]:
    """What the phone join flow does: create the member, then bind it, in one transaction."""
    async with transaction(services.pool) as conn:
        data = MemberCreate(external_id=f"phone:{phone}", phone=phone, share_code=code)
        member, created = await members.create_or_get_member(conn, shop.id, data)
        assert created
        bound = await binding.bind_on_join(conn, merchant_id=shop.id, member_id=member.id,
                                           share_code=code, now=services.clock.now(), ip=ip)
    return member.id, bound


async def test_self_referral_is_rejected_every_time(client: httpx.AsyncClient,
                                                    factory: Factory,
                                                    services: Services) -> None:
    shop = await factory.merchant()
    await program(factory, shop)
    a = await factory.member(shop, phone="13800000001")
    code = await share_code(factory, a)
    before = await services.pool.fetchval("SELECT count(*) FROM members")
    # The same person under another spelling of the phone number, again and again.
    for n, phone in enumerate(["+8613800000001", "8613800000001", "008613800000001"] * 3):
        r = await client.post("/api/v1/members", json={
            "external_id": f"again-{n}", "phone": phone, "share_code": code},
            headers=shop.headers)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "self_referral"
    assert await services.pool.fetchval("SELECT count(*) FROM members") == before
    # The join page: the member joins, unbound.
    member_id, bound = await _join_page(services, shop, "+86 138 0000 0001".replace(" ", ""),
                                        code, "10.0.0.1")
    assert bound is None and await _referrer(client, shop, member_id) is None
    # The member itself, through its own link.
    async with transaction(services.pool) as conn:
        with pytest.raises(SelfReferral):
            await binding.bind_new_member(conn, merchant_id=shop.id, member_id=a.id,
                                          share_code=code, now=services.clock.now())
    assert await _referrer(client, shop, a.id) is None


async def test_existing_members_are_never_rebound_and_cycles_never_form(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await program(factory, shop)
    a = await factory.member(shop, external_id="a")
    b = await join(factory, shop, await share_code(factory, a), external_id="b")
    c = await join(factory, shop, await share_code(factory, b), external_id="c")
    code_c = await share_code(factory, c)
    code_b = await share_code(factory, b)
    for _ in range(3):
        # The API returns the existing member unchanged (200), whatever code it carries.
        for external_id, code in (("a", code_c), ("a", code_b), ("b", code_c)):
            r = await client.post("/api/v1/members", json={
                "external_id": external_id, "share_code": code}, headers=shop.headers)
            assert r.status_code == 200
        # The service refuses to bind an existing member...
        for member_id, code in ((a.id, code_c), (b.id, code_c)):
            async with transaction(services.pool) as conn:
                with pytest.raises(NotNewMember):
                    await binding.bind_new_member(conn, merchant_id=shop.id,
                                                  member_id=member_id, share_code=code,
                                                  now=services.clock.now())
        # ... and PostgreSQL refuses any edge that is not new, or points to a younger member.
        for member_id, referrer_id in ((a.id, c.id), (b.id, c.id), (c.id, a.id)):
            with pytest.raises(asyncpg.CheckViolationError) as err:
                await services.pool.execute(
                    "UPDATE members SET referrer_id = $2 WHERE id = $1", member_id, referrer_id)
            assert err.value.constraint_name == "members_referral_forest"
    assert [await _referrer(client, shop, m.id) for m in (a, b, c)] == [None, a.id, b.id]


async def test_unknown_or_foreign_share_codes_are_rejected(client: httpx.AsyncClient,
                                                           factory: Factory,
                                                           services: Services) -> None:
    shop, other = await factory.merchant(), await factory.merchant("Other")
    await program(factory, other)
    foreign = await share_code(factory, await factory.member(other))
    for code in ("NOPE1234", foreign):
        r = await client.post("/api/v1/members", json={"external_id": "x", "share_code": code},
                              headers=shop.headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_share_code"
    assert await services.pool.fetchval(
        "SELECT count(*) FROM members WHERE merchant_id = $1", shop.id) == 0


async def test_share_links_are_one_per_member_and_coupon(client: httpx.AsyncClient,
                                                         factory: Factory) -> None:
    shop = await factory.merchant()
    reward = await factory.template(shop, name="新人券")
    extra = await factory.template(shop, name="下午茶券")
    secret = await factory.template(shop, name="员工券")
    await program(factory, shop, reward_coupon_template_id=reward["id"],
                  share_coupon_template_ids=[extra["id"]])
    a = await factory.member(shop)
    url = "/api/v1/me/share-links"
    first = await client.post(url, json={}, headers=a.headers)
    assert first.status_code == 201
    link = first.json()
    assert link["coupon_template_id"] == reward["id"]
    assert link["url"] == f"http://testserver/r/{link['code']}" and len(link["code"]) == 8
    again = await client.post(url, json={}, headers=a.headers)
    assert again.status_code == 200 and again.json()["code"] == link["code"]
    other = await client.post(url, json={"coupon_template_id": extra["id"]}, headers=a.headers)
    assert other.status_code == 201 and other.json()["code"] != link["code"]
    refused = await client.post(url, json={"coupon_template_id": secret["id"]},
                                headers=a.headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "template_not_shareable"
    twins = await asyncio.gather(*[
        client.post(url, json={"coupon_template_id": extra["id"]}, headers=a.headers)
        for _ in range(10)])
    assert {r.json()["code"] for r in twins} == {other.json()["code"]}
    assert (await client.post(url, json={}, headers=a.merchant.headers)).status_code == 403


async def test_many_join_one_link_at_once(client: httpx.AsyncClient, factory: Factory,
                                          services: Services) -> None:
    shop = await factory.merchant()
    gift = await factory.template(shop, stock=5)
    await program(factory, shop, reward_coupon_template_id=gift["id"])
    a = await factory.member(shop)
    code = await share_code(factory, a)
    responses = await asyncio.gather(*[
        client.post("/api/v1/members", json={"external_id": f"n{n}", "share_code": code},
                    headers=shop.headers) for n in range(20)])
    assert all(r.status_code == 201 for r in responses)
    assert {r.json()["referrer_id"] for r in responses} == {a.id}
    # The welcome coupon ran out after five; joining kept working.
    assert await services.pool.fetchval(
        "SELECT count(*) FROM coupons WHERE source = 'share'") == 5
    tpl = (await client.get(f"/api/v1/coupon-templates/{gift['id']}",
                            headers=shop.headers)).json()
    assert tpl["issued"] == 5 and tpl["available"] == 0
    assert await services.pool.fetchval("SELECT joins FROM share_links") == 20
    mine = (await client.get("/api/v1/me/referrals", headers=a.headers)).json()
    assert len(mine["invitees"]) == 20


async def test_many_joins_from_one_address_are_held_for_review(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await program(factory, shop, max_joins_per_ip_per_hour=2, levels=[{"rate_bp": 1000}],
                  hold_days=1)
    a = await factory.member(shop)
    code = await share_code(factory, a)
    joined = [await _join_page(services, shop, f"1390000000{n}", code, "203.0.113.7")
              for n in range(4)]
    assert [b.status for _, b in joined if b] == ["active", "active", "held", "held"]
    other_ip = await _join_page(services, shop, "13900000009", code, "198.51.100.1")
    assert other_ip[1] is not None and other_ip[1].status == "active"
    clock.advance(hours=1, seconds=1)
    later = await _join_page(services, shop, "13900000008", code, "203.0.113.7")
    assert later[1] is not None and later[1].status == "active"

    held = (await client.get("/api/v1/referral-bindings?status=held",
                             headers=shop.headers)).json()["items"]
    assert sorted(h["member_id"] for h in held) == sorted([joined[2][0], joined[3][0]])
    assert {h["hold_reason"] for h in held} == {"joins_per_ip"}
    # Held members' orders earn held commission, not paid automatically.
    for n, (member_id, _) in enumerate(joined):
        assert (await order(client, shop, f"o{n}", member_id, 10_000)).status_code == 201
    ledger = await commissions(client, shop, a.id)
    assert ledger["balance"] == {"pending": 2000, "available": 0, "reversed": 0, "held": 2000,
        "requested": 0, "paid": 0}
    r = await client.post(f"/api/v1/referral-bindings/{joined[2][0]}/approve",
                          headers=shop.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = await client.post(f"/api/v1/referral-bindings/{joined[3][0]}/reject",
                          headers=shop.headers)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    again = await client.post(f"/api/v1/referral-bindings/{joined[3][0]}/approve",
                              headers=shop.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "binding_not_held"
    ledger = await commissions(client, shop, a.id)
    assert ledger["balance"] == {"pending": 3000, "available": 0, "reversed": 0, "held": 0,
        "requested": 0, "paid": 0}
    assert sorted(i["status"] for i in ledger["items"]) == ["pending"] * 3 + ["rejected"]
    # Nothing flows across a rejected binding later either.
    assert (await order(client, shop, "o-late", joined[3][0], 10_000)).status_code == 201
    assert len((await commissions(client, shop, a.id))["items"]) == 4


async def test_paid_referrals_are_capped_per_day(client: httpx.AsyncClient, factory: Factory,
                                                 clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await program(factory, shop, max_paid_referrals_per_day=2, levels=[{"rate_bp": 1000}])
    a = await factory.member(shop)
    code = await share_code(factory, a)
    invitees = [await join(factory, shop, code) for _ in range(3)]
    results = await asyncio.gather(*[order(client, shop, f"o{n}", m.id, 10_000)
                                     for n, m in enumerate(invitees)])
    assert all(r.status_code == 201 for r in results)
    assert len((await commissions(client, shop, a.id))["items"]) == 2
    clock.advance(days=1)
    assert (await order(client, shop, "next-day", invitees[0].id, 10_000)).status_code == 201
    assert len((await commissions(client, shop, a.id))["items"]) == 3
