from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_ORDER = """merchant_id, id, member_id, amount, refunded, coupon_codes, request_hash, response,
    created_at, subtotal, discount, store_id, staff_id, guest_phone, claimed_at,
    coupons_returned_at"""


async def insert_order(conn: asyncpg.Connection, *, merchant_id: str, id: str,
                       member_id: str | None, guest_phone: str | None, amount: int,
                       subtotal: int | None, discount: int, store_id: str | None,
                       staff_id: str | None, coupon_codes: list[str], request_hash: str,
                       response: dict[str, Any], created_at: datetime) -> asyncpg.Record | None:
    """None when an order with this id exists already (or a twin request is writing it: the
    unique index makes this insert wait for the twin's transaction to end)."""
    return await conn.fetchrow(
        f"""INSERT INTO orders (merchant_id, id, member_id, guest_phone, amount, subtotal,
                                discount, store_id, staff_id, coupon_codes, request_hash,
                                response, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb, $13)
            ON CONFLICT (merchant_id, id) DO NOTHING
            RETURNING {_ORDER}""",
        merchant_id, id, member_id, guest_phone, amount, subtotal, discount, store_id,
        staff_id, coupon_codes, request_hash, json.dumps(response), created_at,
    )


async def insert_order_coupons(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                               lines: list[tuple[str, str, int]]) -> None:
    """(code, coupon id, discount) of each coupon the order used."""
    await conn.executemany(
        """INSERT INTO order_coupons (merchant_id, order_id, code, coupon_id, discount)
           VALUES ($1, $2, $3, $4, $5)""",
        [(merchant_id, order_id, code, coupon_id, discount)
         for code, coupon_id, discount in lines],
    )


async def order_coupons(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                        order_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT code, coupon_id, discount FROM order_coupons
           WHERE merchant_id = $1 AND order_id = $2 ORDER BY code""",
        merchant_id, order_id,
    )


async def mark_coupons_returned(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                                now: datetime) -> bool:
    """Once per order: False when its coupons were given back already."""
    status = await conn.execute(
        """UPDATE orders SET coupons_returned_at = $3
           WHERE merchant_id = $1 AND id = $2 AND coupons_returned_at IS NULL""",
        merchant_id, order_id, now,
    )
    return status.endswith(" 1")


async def claim_guest_orders(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                             phone: str, since: datetime,
                             now: datetime) -> list[asyncpg.Record]:
    """Hand a new member the guest orders of their phone since ``since``. The update is the
    "once": of two racing claims the second finds member_id set and takes nothing."""
    return await conn.fetch(
        """UPDATE orders SET member_id = $3, claimed_at = $5
           WHERE merchant_id = $1 AND guest_phone = $2 AND member_id IS NULL
             AND created_at >= $4
           RETURNING id, amount, refunded, created_at""",
        merchant_id, phone, member_id, since, now,
    )


async def order_by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, order_id: str,
                      *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_ORDER} FROM orders WHERE merchant_id = $1 AND id = $2{lock}",
        merchant_id, order_id,
    )


async def refund_by_key(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                        refund_key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, amount, response FROM order_refunds
           WHERE merchant_id = $1 AND order_id = $2 AND refund_key = $3""",
        merchant_id, order_id, refund_key,
    )


async def insert_refund(conn: asyncpg.Connection, *, id: str, merchant_id: str, order_id: str,
                        refund_key: str | None, amount: int, refunded_before: int,
                        response: dict[str, Any], created_at: datetime) -> None:
    await conn.execute(
        """INSERT INTO order_refunds (id, merchant_id, order_id, refund_key, amount,
                                      refunded_before, response, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)""",
        id, merchant_id, order_id, refund_key, amount, refunded_before, json.dumps(response),
        created_at,
    )


async def add_refunded(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                       amount: int) -> int:
    """The orders_refunded_within_paid CHECK refuses refunds above what was paid."""
    total: int = await conn.fetchval(
        """UPDATE orders SET refunded = refunded + $3 WHERE merchant_id = $1 AND id = $2
           RETURNING refunded""",
        merchant_id, order_id, amount,
    )
    return total


async def refunds_of_order(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                           order_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT response FROM order_refunds WHERE merchant_id = $1 AND order_id = $2
           ORDER BY id""",
        merchant_id, order_id,
    )


async def orders_of_member(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                           member_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, amount, refunded, coupon_codes, created_at FROM orders
           WHERE merchant_id = $1 AND member_id = $2
           ORDER BY created_at DESC, id DESC LIMIT $3""",
        merchant_id, member_id, limit,
    )


async def order_totals_of_member(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                                 member_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """SELECT count(*) AS orders, coalesce(sum(amount - refunded), 0) AS spent
           FROM orders WHERE merchant_id = $1 AND member_id = $2""",
        merchant_id, member_id,
    )
    assert row is not None
    return row
