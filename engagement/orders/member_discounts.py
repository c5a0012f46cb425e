"""The member discount (会员折扣) an order gets before its coupons: paid membership belongs
to a loyalty leaf, which the core cannot import, so the leaf provides a ``MemberDiscounts``
in its Domain record and the composition roots install it here. Without one (a deployment
without paid membership), no member has a discount."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class MemberDiscounts:
    # (conn, merchant_id, member_id, now) -> the percent of the subtotal a member gets off
    # now (0 to 100), read in the order's transaction.
    percent: Callable[[asyncpg.Connection, str, str, datetime], Awaitable[int]]


_installed: list[MemberDiscounts] = []


def install(port: MemberDiscounts | None) -> None:
    _installed.clear()
    if port is not None:
        _installed.append(port)


async def member_discount(conn: asyncpg.Connection, merchant_id: str, member_id: str | None,
                          subtotal: int, now: datetime) -> int:
    """Cents off ``subtotal`` for this member: floor(subtotal × percent / 100), rounding in
    the merchant's favour by at most a cent; 0 for a guest or without a port."""
    if member_id is None or not _installed:
        return 0
    percent = await _installed[0].percent(conn, merchant_id, member_id, now)
    return subtotal * min(max(percent, 0), 100) // 100
