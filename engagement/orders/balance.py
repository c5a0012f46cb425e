"""Paying part of an order from the member's stored value (储值): a port the wallet
implements, since the core cannot import engagement.loyalty. The wallet's Domain record
provides a ``BalancePayments``; the composition roots install it here. Without one, an order
that asks to be paid from the balance is refused (``stored_value_unavailable``).

An order's ``pay_with_balance`` needs the member's payment PIN. The PIN is checked before
the order's transaction, on a connection of its own that commits, so that a wrong PIN counts
towards the lock although the order then fails; the balance part is taken inside the order's
transaction, so that it commits or rolls back with the order. A refund returns the balance
its share of the refund (``refund_share``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from engagement.kit.errors import Conflict, InvalidInput

Conn = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class BalancePayments:
    # (pool, merchant_id, member_id, pin, now): before the order's transaction; raises
    # bad_pin / pin_not_set / pin_locked, and records a failure with its own commit.
    authorize: Callable[[asyncpg.Pool, str, str, str, datetime], Awaitable[None]]
    # (conn, merchant_id, member_id, amount, order_id=, store_id=, staff_id=, now=): inside
    # the order's transaction; raises insufficient_balance.
    take: Callable[..., Awaitable[None]]
    # (conn, merchant_id, member_id): the member's balance now, for a quote.
    available: Callable[[Conn, str, str], Awaitable[int]]


class InsufficientBalance(Conflict):
    code, message = "insufficient_balance", "The balance does not cover this amount."


class StoredValueUnavailable(InvalidInput):
    code, message = "stored_value_unavailable", "This service takes no payments from a balance."


class BalanceExceedsAmount(InvalidInput):
    code, message = "balance_exceeds_amount", "pay_with_balance is more than the order's amount."


_installed: list[BalancePayments] = []


def install(port: BalancePayments | None) -> None:
    _installed.clear()
    if port is not None:
        _installed.append(port)


def port() -> BalancePayments:
    if not _installed:
        raise StoredValueUnavailable(fields=[{"field": "pay_with_balance"}])
    return _installed[0]


def check_part(pay_with_balance: int, amount: int) -> None:
    if pay_with_balance > amount:
        raise BalanceExceedsAmount(amount=amount, fields=[{"field": "pay_with_balance"}])


def refund_share(paid_with_balance: int, paid: int, refunded_before: int, amount: int) -> int:
    """Cents of a refund that go back to the balance: the refunds return the balance part in
    the proportion the order was paid from it, counted on the running total (so rounding
    never adds up past the balance part, and a whole refund returns all of it)."""
    if paid_with_balance == 0 or paid == 0:
        return 0
    after = paid_with_balance * (refunded_before + amount) // paid
    return after - paid_with_balance * refunded_before // paid


def installed() -> bool:
    return bool(_installed)
