"""The referral chain end to end: A shares, B joins, B shares, C joins and buys; commissions
accrue pending, release after the hold, and refunds reverse or claw back in proportion."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from referrals import tasks as referral_tasks
from tests.factories import Factory
from tests.referrals.helpers import (
    balance_from_items,
    commissions,
    drain,
    join,
    order,
    program,
    refund,
    share_code,
)


def net(rate_bp: int, paid: int, refunded: int) -> int:
    return (paid - refunded) * rate_bp // 10_000


async def test_chain_accrues_releases_reverses_and_claws_back(
        client: httpx.AsyncClient, factory: Factory, services: Services, settings: Settings,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    gift = await factory.template(shop, name="满100减20", min_spend=10_000,
                                  discount={"type": "amount_off", "amount": 2000}, stock=10)
    await program(factory, shop, reward_coupon_template_id=gift["id"],
                  levels=[{"rate_bp": 1000}, {"rate_bp": 500}], trigger="every_order",
                  hold_days=7)
    a = await factory.member(shop, name="小红", phone="13800000001")
    code_a = await share_code(factory, a)
    b = await join(factory, shop, code_a, name="小明", phone="13800000002")
    got = (await client.get(f"/api/v1/members/{b.id}", headers=shop.headers)).json()
    assert got["referrer_id"] == a.id
    b_coupons = (await client.get("/api/v1/me/coupons", headers=b.headers)).json()["items"]
    assert [(c["template_id"], c["source"], c["status"]) for c in b_coupons] == [
        (gift["id"], "share", "issued")]

    code_b = await share_code(factory, b)
    c = await join(factory, shop, code_b, phone="13800000003")
    assert (await client.get(f"/api/v1/members/{c.id}", headers=shop.headers)).json()[
        "referrer_id"] == b.id
    c_coupon = (await client.get("/api/v1/me/coupons", headers=c.headers)).json()["items"][0]

    r = await order(client, shop, "pos-1001", c.id, 20_000, [c_coupon["code"]])
    assert r.status_code == 201, r.text
    c_after = (await client.get("/api/v1/me/coupons", headers=c.headers)).json()["items"][0]
    assert c_after["status"] == "redeemed"

    ledger_b = await commissions(client, shop, b.id)
    ledger_a = await commissions(client, shop, a.id)
    assert [(i["level"], i["amount"], i["status"], i["order_id"]) for i in ledger_b["items"]] \
        == [(1, 2000, "pending", "pos-1001")]
    assert [(i["level"], i["amount"], i["status"]) for i in ledger_a["items"]] == [
        (2, 1000, "pending")]
    assert ledger_b["balance"] == {"pending": 2000, "available": 0, "reversed": 0, "held": 0,
        "requested": 0, "paid": 0}
    assert (await commissions(client, shop, c.id))["items"] == []

    # A partial refund during the hold reverses pending commission in proportion.
    assert (await refund(client, shop, "pos-1001", 5000)).status_code == 201
    ledger_b = await commissions(client, shop, b.id)
    ledger_a = await commissions(client, shop, a.id)
    assert ledger_b["balance"] == {"pending": net(1000, 20_000, 5000), "available": 0,
                                   "reversed": 500, "held": 0,
        "requested": 0, "paid": 0}
    assert ledger_a["balance"] == {"pending": net(500, 20_000, 5000), "available": 0,
                                   "reversed": 250, "held": 0,
        "requested": 0, "paid": 0}
    assert {i["kind"] for i in ledger_b["items"]} == {"accrual", "reversal"}

    # Not yet: one second before the hold ends nothing is released.
    clock.advance(days=7, seconds=-1)
    assert await referral_tasks.release_commissions({"services": services}) == 0
    clock.advance(seconds=1)
    await services.redis.enqueue_job("referrals.release_commissions",
                                     _job_id="test-release")
    await drain(settings, clock)  # a real worker runs the job
    ledger_b = await commissions(client, shop, b.id)
    ledger_a = await commissions(client, shop, a.id)
    assert ledger_b["balance"] == {"pending": 0, "available": 1500, "reversed": 500, "held": 0,
        "requested": 0, "paid": 0}
    assert ledger_a["balance"] == {"pending": 0, "available": 750, "reversed": 250, "held": 0,
        "requested": 0, "paid": 0}
    # A rerun of the job changes nothing.
    assert await referral_tasks.release_commissions({"services": services}) == 0

    # A refund after the release writes a negative clawback.
    assert (await refund(client, shop, "pos-1001", 3000)).status_code == 201
    ledger_b = await commissions(client, shop, b.id)
    ledger_a = await commissions(client, shop, a.id)
    clawback = [i for i in ledger_b["items"] if i["kind"] == "clawback"]
    assert [(i["amount"], i["status"]) for i in clawback] == [(-300, "reversed")]
    assert ledger_b["balance"]["available"] == net(1000, 20_000, 8000) == 1200
    assert ledger_a["balance"]["available"] == net(500, 20_000, 8000) == 600

    for member, ledger in ((a, ledger_a), (b, ledger_b)):
        items = ledger["items"]
        assert balance_from_items(items) == ledger["balance"]
        assert sum(i["amount"] for i in items) == (
            ledger["balance"]["pending"] + ledger["balance"]["available"])
        mine = (await client.get("/api/v1/me/referrals", headers=member.headers)).json()
        assert mine["commission"] == ledger["balance"]

    # The referrer's view: invitees masked, never a full phone number.
    mine_a = (await client.get("/api/v1/me/referrals", headers=a.headers)).json()
    assert [i["display_name"] for i in mine_a["invitees"]] == ["小* 138****0002"]
    assert mine_a["share_link"]["code"] == code_a
    assert "13800000002" not in str(mine_a)


async def test_first_order_trigger_pays_only_the_first_order(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    await program(factory, shop, trigger="first_order", levels=[{"rate_bp": 1000}])
    a = await factory.member(shop)
    b = await join(factory, shop, await share_code(factory, a))
    for n in range(3):
        assert (await order(client, shop, f"o-{n}", b.id, 10_000)).status_code == 201
    items = (await commissions(client, shop, a.id))["items"]
    assert [(i["order_id"], i["amount"]) for i in items] == [("o-0", 1000)]


async def test_levels_bound_commission_depth(client: httpx.AsyncClient,
                                             factory: Factory) -> None:
    shop = await factory.merchant()
    await program(factory, shop, levels=[{"rate_bp": 300}, {"rate_bp": 200}])
    chain = [await factory.member(shop)]
    for _ in range(4):
        chain.append(await join(factory, shop, await share_code(factory, chain[-1])))
    buyer = chain[-1]
    assert (await order(client, shop, "deep", buyer.id, 10_000)).status_code == 201
    earned = [sum(i["amount"] for i in (await commissions(client, shop, m.id))["items"])
              for m in chain]
    assert earned == [0, 0, 200, 300, 0]


async def test_disabled_program_pays_nothing(client: httpx.AsyncClient,
                                             factory: Factory) -> None:
    shop = await factory.merchant()
    await program(factory, shop)
    a = await factory.member(shop)
    b = await join(factory, shop, await share_code(factory, a))
    await program(factory, shop, enabled=False)
    assert (await order(client, shop, "x", b.id, 10_000)).status_code == 201
    assert (await commissions(client, shop, a.id))["items"] == []
    r = await client.post("/api/v1/me/share-links", json={}, headers=a.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "referral_program_disabled"


async def test_ledger_rows_cannot_be_rewritten(client: httpx.AsyncClient, factory: Factory,
                                               services: Services) -> None:
    shop = await factory.merchant()
    await program(factory, shop, levels=[{"rate_bp": 1000}])
    a = await factory.member(shop)
    b = await join(factory, shop, await share_code(factory, a))
    assert (await order(client, shop, "o", b.id, 10_000)).status_code == 201
    entry_id = (await commissions(client, shop, a.id))["items"][0]["id"]
    for change in ("amount = amount + 1", "status = 'rejected'", "level = 2",
                   "beneficiary_id = buyer_id"):
        with pytest.raises(asyncpg.CheckViolationError) as err:
            await services.pool.execute(
                f"UPDATE commission_entries SET {change} WHERE id = $1", entry_id)
        assert err.value.constraint_name == "commission_entries_append_only", change
    with pytest.raises(asyncpg.CheckViolationError):  # released entries stay released
        await services.pool.execute(
            "UPDATE commission_entries SET status = 'available' WHERE id = $1", entry_id)
        await services.pool.execute(
            "UPDATE commission_entries SET status = 'pending' WHERE id = $1", entry_id)
