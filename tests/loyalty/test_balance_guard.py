"""The balance's guards: debits under concurrency, the spend order, and PostgreSQL's own
CHECK on the running totals that holds even when code skips the service's checks."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from engagement.kit.state import Services
from engagement.loyalty.wallet import service as wallet
from engagement.loyalty.wallet.queries import insert_entry
from tests.factories import Factory, MemberHandle, MerchantHandle


async def _funded(factory: Factory, pay: int, bonus: int,
                  spend_order: str = "principal_first") -> tuple[MerchantHandle, MemberHandle]:
    shop = await factory.merchant()
    r = await factory.client.put("/api/v1/top-up-plans", headers=shop.headers, json={
        "plans": [{"pay": pay, "bonus": bonus}], "spend_order": spend_order})
    assert r.status_code == 200, r.text
    member = await factory.member(shop)
    r = await factory.client.post(f"/api/v1/members/{member.id}/top-ups", json={"pay": pay},
                                  headers={**shop.headers, "Idempotency-Key": "fund"})
    assert r.status_code == 201, r.text
    return shop, member


async def _debit(services: Services, shop: MerchantHandle, member: MemberHandle,
                 amount: int) -> wallet.Debit | None:
    try:
        async with services.pool.acquire() as conn, conn.transaction():
            return await wallet.debit(conn, shop.id, member.id, amount, kind="spend",
                                      now=services.clock.now())
    except wallet.InsufficientBalance:
        return None


async def test_twenty_debits_at_once_take_only_what_the_balance_holds(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 9000, 1000)  # ¥90 + ¥10 bonus = ¥100
    results = await asyncio.gather(*(_debit(services, shop, member, 3000) for _ in range(20)))
    assert sum(1 for r in results if r is not None) == 3
    body = (await factory.client.get(f"/api/v1/members/{member.id}/balance",
                                     headers=shop.headers)).json()
    assert body["balance"] == 1000
    assert sum(item["delta"] for item in body["items"]) == body["balance"]
    assert (body["principal"], body["bonus"]) == (0, 1000)  # principal first


async def test_bonus_first_spends_the_bonus_before_the_principal(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 9000, 1000, "bonus_first")
    spent = await _debit(services, shop, member, 3000)
    assert spent is not None and (spent.principal, spent.bonus, spent.balance) == (2000, 1000, 7000)


async def test_postgres_refuses_an_overdraft_that_skips_the_service(
        factory: Factory, services: Services) -> None:
    shop, member = await _funded(factory, 5000, 0)
    with pytest.raises(asyncpg.CheckViolationError):
        async with services.pool.acquire() as conn, conn.transaction():
            await insert_entry(conn, id="bal_rogue", merchant_id=shop.id, member_id=member.id,
                               kind="spend", principal=-5001, bonus=0, order_id=None,
                               store_id=None, staff_id=None, now=services.clock.now())
    with pytest.raises(asyncpg.RaiseError):
        await services.pool.execute(
            "UPDATE balance_ledger SET principal = 1 WHERE member_id = $1", member.id)
    assert await services.pool.fetchval(
        "SELECT principal FROM balances WHERE member_id = $1", member.id) == 5000
