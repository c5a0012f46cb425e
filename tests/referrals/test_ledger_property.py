"""The commission ledger as a property: over thousands of random sequences of orders,
refunds, retries, duplicate and out-of-order deliveries and release runs,

    net per beneficiary and level = sum over qualifying orders of
                                    floor((paid - refunded) * rate_bp / 10000)

(the rounding rule documented in referrals.ledger), nothing counts below zero, every entry
is unique, and the balances shown are sums of entries.

Each example runs in one transaction that is rolled back (savepoints stand for the separate
transactions of requests and jobs), against the real PostgreSQL, through the same service
functions and hook listeners the API and the worker call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.kit import hooks
from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.members import service as members
from engagement.members.schemas import MemberCreate
from engagement.merchants.schemas import MerchantCreate
from engagement.merchants.service import create_merchant
from engagement.orders import service as orders
from engagement.orders.schemas import OrderCreate, RefundCreate
from referrals.ledger import queries
from referrals.ledger import service as ledger
from referrals.schemas import Level, ProgramIn
from referrals.service import put_program

Op = tuple[Any, ...]
OPS = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 3), st.integers(0, 60_000)),
    st.tuples(st.just("dup_order"), st.integers(0, 50)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 40_000)),
    st.tuples(st.just("dup_refund"), st.integers(0, 50)),
    st.tuples(st.just("redeliver_paid"), st.integers(0, 50)),
    st.tuples(st.just("redeliver_refund"), st.integers(0, 50)),
    st.tuples(st.just("advance"), st.integers(1, 60)),
    st.tuples(st.just("release"), st.integers(1, 2)),
)


@dataclass
class World:
    merchant_id: str
    chain: list[str]  # root first: chain[i + 1] was referred by chain[i]


@dataclass
class Model:
    """What the ledger must add up to, kept independently of the code under test."""

    orders: dict[str, list[Any]] = field(default_factory=dict)  # id -> [buyer, paid, refunded]
    refunds: list[dict[str, Any]] = field(default_factory=list)
    paid_events: list[hooks.OrderPaid] = field(default_factory=list)
    first_order: dict[str, str] = field(default_factory=dict)


async def _world(services: Services) -> World:
    async with transaction(services.pool) as conn:
        merchant, _ = await create_merchant(conn, MerchantCreate(name="Property Shop"))
    chain: list[str] = []
    for n in range(4):
        async with transaction(services.pool) as conn:  # each older than the next
            member, _ = await members.create_or_get_member(
                conn, merchant.id, MemberCreate(external_id=f"chain-{n}", phone=f"1390000000{n}"),
                referrer_id=chain[-1] if chain else None)
        chain.append(member.id)
    return World(merchant.id, chain)


async def _run(conn: asyncpg.Connection, world: World, rates: list[int], trigger: str,
               hold_days: int, ops: list[Op], start: datetime) -> None:
    now = start
    await put_program(conn, world.merchant_id, ProgramIn(
        enabled=True, levels=[Level(rate_bp=r) for r in rates], trigger=trigger,
        hold_days=hold_days, max_paid_referrals_per_day=None), now)
    model = Model()
    for op in ops:
        kind = op[0]
        if kind == "order":
            buyer = world.chain[1 + op[1] % 3]
            order_id = f"o{len(model.orders)}"
            async with conn.transaction():
                _, created = await orders.create_order(conn, world.merchant_id, OrderCreate(
                    id=order_id, member_id=buyer, amount=op[2]), now)
            assert created
            model.orders[order_id] = [buyer, op[2], 0]
            model.first_order.setdefault(buyer, order_id)
            model.paid_events.append(hooks.OrderPaid(
                merchant_id=world.merchant_id, order_id=order_id, member_id=buyer,
                amount=op[2], created_at=now))
        elif kind == "dup_order" and model.orders:
            order_id = list(model.orders)[op[1] % len(model.orders)]
            buyer, paid, _ = model.orders[order_id]
            async with conn.transaction():
                _, created = await orders.create_order(conn, world.merchant_id, OrderCreate(
                    id=order_id, member_id=buyer, amount=paid), now)
            assert not created
        elif kind == "refund" and model.orders:
            order_id = list(model.orders)[op[1] % len(model.orders)]
            state = model.orders[order_id]
            key = f"r{len(model.refunds)}"
            if state[2] + op[2] > state[1]:
                with pytest.raises(orders.RefundExceedsPaid):
                    async with conn.transaction():
                        await orders.create_refund(conn, world.merchant_id, order_id,
                                                   RefundCreate(amount=op[2], id=key), now)
                continue
            async with conn.transaction():
                out, created = await orders.create_refund(
                    conn, world.merchant_id, order_id, RefundCreate(amount=op[2], id=key), now)
            assert created
            model.refunds.append({
                "merchant_id": world.merchant_id, "order_id": order_id, "member_id": state[0],
                "refund_id": out.id, "amount": op[2], "refunded_before": state[2],
                "paid": state[1], "created_at": now, "key": key})
            state[2] += op[2]
        elif kind == "dup_refund" and model.refunds:
            refund = model.refunds[op[1] % len(model.refunds)]
            async with conn.transaction():
                out, created = await orders.create_refund(
                    conn, world.merchant_id, refund["order_id"],
                    RefundCreate(amount=refund["amount"], id=refund["key"]), now)
            assert not created and out.id == refund["refund_id"]
        elif kind == "redeliver_paid" and model.paid_events:
            # A retried job or a duplicate event: the listener runs again, later.
            async with conn.transaction():
                assert await ledger.accrue(
                    conn, model.paid_events[op[1] % len(model.paid_events)]) == 0
        elif kind == "redeliver_refund" and model.refunds:
            # Out of order: an old refund's event after newer refunds and releases.
            event = hooks.OrderRefunded(**{
                k: v for k, v in model.refunds[op[1] % len(model.refunds)].items()
                if k != "key"})
            async with conn.transaction():
                assert await ledger.reverse(conn, event) == 0
        elif kind == "advance":
            now += timedelta(hours=op[1])
        elif kind == "release":
            for _ in range(op[1]):
                async with conn.transaction():
                    await ledger.release_due(conn, now, 1000)
    await _check(conn, world, rates, trigger, model, now, hold_days)


async def _check(conn: asyncpg.Connection, world: World, rates: list[int], trigger: str,
                 model: Model, now: datetime, hold_days: int) -> None:
    entries = await conn.fetch(
        """SELECT order_id, beneficiary_id, level, kind, cause, amount, status, available_at
           FROM commission_entries WHERE merchant_id = $1""", world.merchant_id)
    keys = [(e["order_id"], e["beneficiary_id"], e["level"], e["cause"]) for e in entries]
    assert len(keys) == len(set(keys)), "an entry was written twice"

    expected: dict[tuple[str, int], int] = {}
    for order_id, (buyer, paid, refunded) in model.orders.items():
        assert refunded <= paid
        if trigger == "first_order" and model.first_order[buyer] != order_id:
            continue
        position = world.chain.index(buyer)
        for level, rate in enumerate(rates, start=1):
            if position - level < 0:
                break
            beneficiary = world.chain[position - level]
            expected[(beneficiary, level)] = expected.get((beneficiary, level), 0) + \
                (paid - refunded) * rate // 10_000
    actual: dict[tuple[str, int], int] = {}
    groups: dict[tuple[str, str, int], list[asyncpg.Record]] = {}
    for e in entries:
        key = (e["beneficiary_id"], e["level"])
        actual[key] = actual.get(key, 0) + e["amount"]
        groups.setdefault((e["order_id"], e["beneficiary_id"], e["level"]), []).append(e)
    assert {k: v for k, v in actual.items() if v} == {k: v for k, v in expected.items() if v}

    balances: dict[str, dict[str, int]] = {}
    for (order_id, beneficiary, level), group in groups.items():
        accrual = [e for e in group if e["kind"] == "accrual"]
        assert len(accrual) == 1, "a reversal without its accrual"
        total = sum(e["amount"] for e in group)
        assert total >= 0, "commission below zero"
        buyer, paid, refunded = model.orders[order_id]
        assert total == (paid - refunded) * rates[level - 1] // 10_000
        state = accrual[0]["status"]
        assert state in ("pending", "available")
        # Released exactly when the hold has passed and a release ran since.
        if state == "available":
            assert accrual[0]["available_at"] <= now
        b = balances.setdefault(beneficiary, {"pending": 0, "available": 0, "reversed": 0,
                                              "held": 0,
        "requested": 0, "paid": 0})
        b[state] += total
        b["reversed"] -= sum(e["amount"] for e in group if e["kind"] != "accrual")
    for beneficiary in world.chain:
        shown = await queries.balance(conn, beneficiary)
        assert dict(shown) == balances.get(beneficiary, {"pending": 0, "available": 0,
                                                         "reversed": 0, "held": 0,
        "requested": 0, "paid": 0})
        assert shown["pending"] >= 0 and shown["available"] >= 0

    # A final release leaves exactly the accruals still inside their hold pending.
    await ledger.release_due(conn, now, 100_000)
    for e in await conn.fetch(
            "SELECT status, available_at FROM commission_entries "
            "WHERE merchant_id = $1 AND kind = 'accrual'", world.merchant_id):
        assert (e["status"] == "pending") == (e["available_at"] > now)
    assert hold_days >= 0


class Rollback(Exception):
    pass


@settings(max_examples=1500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rates=st.lists(st.integers(0, 3000), min_size=1, max_size=3),
       trigger=st.sampled_from(["every_order", "first_order"]),
       hold_days=st.integers(0, 2),
       ops=st.lists(OPS, max_size=30))
async def test_ledger_nets_to_rate_times_paid_minus_refunded(
        services: Services, rates: list[int], trigger: str, hold_days: int,
        ops: list[Op]) -> None:
    world = await _shared_world(services)
    async with services.pool.acquire() as conn:
        try:
            async with conn.transaction():
                await _run(conn, world, rates, trigger, hold_days, ops,
                           services.clock.now())
                raise Rollback
        except Rollback:
            pass


_WORLDS: dict[int, World] = {}


async def _shared_world(services: Services) -> World:
    """One merchant and chain for all examples of a run (the app fixture truncated the tables
    once, before the first example)."""
    key = id(services)
    if key not in _WORLDS:
        _WORLDS.clear()
        _WORLDS[key] = await _world(services)
    return _WORLDS[key]
