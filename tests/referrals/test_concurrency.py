"""Invariant 3 under real concurrency: duplicate orders, refunds and release runs arriving at
once still write each commission entry exactly once."""

from __future__ import annotations

import asyncio

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from referrals import tasks as referral_tasks
from tests.factories import Factory
from tests.referrals.helpers import commissions, join, order, program, refund, share_code


async def test_duplicate_submissions_make_one_order_and_one_set_of_entries(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    gift = await factory.template(shop, min_spend=0)
    await program(factory, shop, reward_coupon_template_id=gift["id"], hold_days=1,
                  levels=[{"rate_bp": 1000}, {"rate_bp": 500}])
    a = await factory.member(shop)
    b = await join(factory, shop, await share_code(factory, a))
    c = await join(factory, shop, await share_code(factory, b))
    coupon = (await client.get("/api/v1/me/coupons", headers=c.headers)).json()["items"][0]

    orders = await asyncio.gather(*[order(client, shop, "same", c.id, 33_333, [coupon["code"]])
                                    for _ in range(40)])
    assert sorted(r.status_code for r in orders) == [200] * 39 + [201]
    assert len({r.text for r in orders}) == 1
    pool = services.pool
    assert await pool.fetchval("SELECT count(*) FROM orders") == 1
    assert await pool.fetchval("SELECT count(*) FROM commission_entries") == 2

    # The same refund delivered many times at once, while release jobs run alongside.
    clock.advance(days=1)
    jobs = [referral_tasks.release_commissions({"services": services}) for _ in range(5)]
    refunds = [refund(client, shop, "same", 10_000, id="rf-1") for _ in range(20)]
    results = await asyncio.gather(*refunds, *jobs)
    assert all(r.status_code == 201 for r in results[:20])  # type: ignore[union-attr]
    assert sum(results[20:]) == 2  # type: ignore[arg-type]
    assert await pool.fetchval("SELECT count(*) FROM order_refunds") == 1
    assert await pool.fetchval(
        "SELECT count(*) FROM commission_entries WHERE kind <> 'accrual'") == 2
    for member, rate in ((b, 1000), (a, 500)):
        ledger = await commissions(client, shop, member.id)
        net = (33_333 - 10_000) * rate // 10_000
        assert sum(i["amount"] for i in ledger["items"]) == net
        assert ledger["balance"]["available"] == net and ledger["balance"]["pending"] == 0
