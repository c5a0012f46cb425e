"""The till's receipt: one order read back as recorded, with what each coupon took off and
the points it earned."""

from __future__ import annotations

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool


async def order_for_receipt(conn: Conn, merchant_id: str,
                            order_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, member_id, guest_phone, subtotal, discount, amount, store_id, created_at,
                  member_discount
           FROM orders WHERE merchant_id = $1 AND id = $2""",
        merchant_id, order_id,
    )


async def coupons_of_order(conn: Conn, merchant_id: str, order_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT oc.code, oc.discount, t.name
           FROM order_coupons oc
           JOIN coupons c ON c.id = oc.coupon_id
           JOIN coupon_templates t ON t.id = c.template_id
           WHERE oc.merchant_id = $1 AND oc.order_id = $2
           ORDER BY oc.code""",
        merchant_id, order_id,
    )


async def points_of_order(conn: Conn, merchant_id: str, order_id: str) -> int:
    """The order's credit in the points ledger (its ref is 'order:<id>', once per order);
    0 when the merchant runs no points program."""
    value = await conn.fetchval(
        "SELECT delta FROM points_ledger WHERE merchant_id = $1 AND ref = $2",
        merchant_id, f"order:{order_id}",
    )
    return int(value or 0)
