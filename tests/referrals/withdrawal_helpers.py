"""Builders for withdrawal tests: a referrer with released (available) commission."""

from __future__ import annotations

from typing import Any

import httpx

from engagement.kit.state import Services
from referrals import tasks as referral_tasks
from tests.factories import Factory, MemberHandle, MerchantHandle
from tests.referrals.helpers import join, order, program, share_code


async def earner(factory: Factory, services: Services, *, available: int,
                 min_withdrawal: int | None = None, shop: MerchantHandle | None = None,
                 **member: Any) -> tuple[MerchantHandle, MemberHandle]:
    """A referrer whose friend bought ten times ``available`` at 10%, released at once."""
    shop = shop or await factory.merchant()
    extra = {} if min_withdrawal is None else {"min_withdrawal": min_withdrawal}
    await program(factory, shop, levels=[{"rate_bp": 1000}], hold_days=0, **extra)
    referrer = await factory.member(shop, **member)
    friend = await join(factory, shop, await share_code(factory, referrer))
    r = await order(factory.client, shop, f"o-{referrer.id}", friend.id, available * 10)
    assert r.status_code == 201, r.text
    assert await referral_tasks.release_commissions({"services": services}) == 1
    return shop, referrer


async def withdraw(client: httpx.AsyncClient, member: MemberHandle, amount: Any,
                   key: str | None = None) -> httpx.Response:
    headers = dict(member.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post("/api/v1/me/withdrawals", json={"amount": amount},
                             headers=headers)


async def balance(client: httpx.AsyncClient, member: MemberHandle) -> dict[str, int]:
    r = await client.get("/api/v1/me/referrals", headers=member.headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["commission"])


async def ledger_sums(services: Services, member_id: str) -> dict[str, int]:
    """Recomputed from the rows alone (not through the balance query): released accruals and
    their clawbacks, less the withdrawals requested or paid."""
    released = await services.pool.fetchval(
        """SELECT coalesce(sum(e.amount), 0) FROM commission_entries e
           JOIN commission_entries a ON a.merchant_id = e.merchant_id
            AND a.order_id = e.order_id AND a.beneficiary_id = e.beneficiary_id
            AND a.level = e.level AND a.cause = 'order'
           WHERE e.beneficiary_id = $1 AND a.status = 'available'""", member_id)
    rows = await services.pool.fetch(
        "SELECT status, amount FROM commission_withdrawals WHERE member_id = $1", member_id)
    requested = sum(r["amount"] for r in rows if r["status"] == "requested")
    paid = sum(r["amount"] for r in rows if r["status"] == "paid")
    return {"available": released - requested - paid, "requested": requested, "paid": paid}


async def join_from(services: Services, shop: MerchantHandle, phone: str, code: str,
                    ip: str, name: str | None = None) -> tuple[str, str]:
    """What the phone join page does: create the member, then bind it from ``ip``, in one
    transaction. Returns the member id and the binding's status (active or held)."""
    from engagement.kit.db import transaction
    from engagement.members import service as members
    from engagement.members.schemas import MemberCreate
    from referrals import binding

    async with transaction(services.pool) as conn:
        data = MemberCreate(external_id=f"phone:{phone}", phone=phone, name=name,
                            share_code=code)
        member, created = await members.create_or_get_member(conn, shop.id, data)
        assert created
        bound = await binding.bind_on_join(conn, merchant_id=shop.id, member_id=member.id,
                                           share_code=code, now=services.clock.now(), ip=ip)
    assert bound is not None
    return member.id, bound.status
