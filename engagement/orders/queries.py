from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_ORDER = """merchant_id, id, member_id, amount, refunded, coupon_codes, request_hash, response,
    created_at, subtotal, discount, store_id, staff_id, guest_phone, claimed_at,
    coupons_returned_at, member_discount, paid_with_balance"""


async def insert_order(conn: asyncpg.Connection, *, merchant_id: str, id: str,
                       member_id: str | None, guest_phone: str | None, amount: int,
                       subtotal: int | None, discount: int, store_id: str | None,
                       staff_id: str | None, coupon_codes: list[str], request_hash: str,
                       response: dict[str, Any], created_at: datetime,
                       member_discount: int = 0,
                       paid_with_balance: int = 0) -> asyncpg.Record | None:
    """None when an order with this id exists already (or a twin request is writing it: the
    unique index makes this insert wait for the twin's transaction to end)."""
    return await conn.fetchrow(
        f"""INSERT INTO orders (merchant_id, id, member_id, guest_phone, amount, subtotal,
                                discount, store_id, staff_id, coupon_codes, request_hash,
                                response, created_at, member_discount, paid_with_balance)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb, $13, $14,
                    $15)
            ON CONFLICT (merchant_id, id) DO NOTHING
            RETURNING {_ORDER}""",
        merchant_id, id, member_id, guest_phone, amount, subtotal, discount, store_id,
        staff_id, coupon_codes, request_hash, json.dumps(response), created_at,
        member_discount, paid_with_balance,
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


# The console's order pages, till summary and orders export (engagement/orders/console.py,
# engagement/orders/summary.py): each order with who bought, where and from whom.

_LISTED = """o.id, o.member_id, o.amount, o.refunded, o.subtotal, o.discount, o.coupon_codes,
    o.store_id, o.staff_id, o.guest_phone, o.created_at, o.coupons_returned_at,
    m.name AS member_name, m.phone AS member_phone, m.external_id,
    s.name AS store_name, u.email AS staff_email
    FROM orders o
    LEFT JOIN members m ON m.id = o.member_id
    LEFT JOIN stores s ON s.merchant_id = o.merchant_id AND s.id = o.store_id
    LEFT JOIN merchant_users u ON u.id = o.staff_id"""


async def orders_listed(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, *,
                        store_id: str | None, since: datetime | None, until: datetime | None,
                        before: tuple[datetime, str] | None,
                        limit: int) -> list[asyncpg.Record]:
    """Newest first; ``before`` is the (time, id) of the last order of the previous page."""
    at, order_id = before if before else (None, None)
    return await conn.fetch(
        f"""SELECT {_LISTED}
            WHERE o.merchant_id = $1 AND ($2::text IS NULL OR o.store_id = $2)
              AND ($3::timestamptz IS NULL OR o.created_at >= $3)
              AND ($4::timestamptz IS NULL OR o.created_at < $4)
              AND ($5::timestamptz IS NULL OR (o.created_at, o.id) < ($5, $6::text))
            ORDER BY o.created_at DESC, o.id DESC LIMIT $7""",
        merchant_id, store_id, since, until, at, order_id, limit,
    )


async def order_listed(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       order_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_LISTED} WHERE o.merchant_id = $1 AND o.id = $2",
                               merchant_id, order_id)


async def coupon_lines(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       order_id: str, codes: list[str]) -> list[asyncpg.Record]:
    """The order's coupons, what each took off when priced (NULL for an order the till
    priced itself) and where each stands now."""
    return await conn.fetch(
        """SELECT x.code, t.name, t.discount AS terms, c.status, c.expires_at, oc.discount,
                  c.order_id AS used_on
           FROM unnest($3::text[]) AS x(code)
           LEFT JOIN coupons c ON c.merchant_id = $1 AND c.code = x.code
           LEFT JOIN coupon_templates t ON t.id = c.template_id
           LEFT JOIN order_coupons oc ON oc.merchant_id = $1 AND oc.order_id = $2
                                     AND oc.code = x.code
           ORDER BY x.code""",
        merchant_id, order_id, codes,
    )


async def refund_lines(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       order_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, refund_key, amount, refunded_before, created_at FROM order_refunds
           WHERE merchant_id = $1 AND order_id = $2 ORDER BY created_at, id""",
        merchant_id, order_id,
    )


async def till_summary(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       store_id: str | None, since: datetime,
                       until: datetime) -> list[asyncpg.Record]:
    """One row per (store, member of staff) of a day: the orders taken, their coupons,
    discounts, points credited and money paid, and the refunds made that day (of any
    day's orders, counted where their order was taken)."""
    return await conn.fetch(
        """WITH facts AS (
               SELECT o.store_id, o.staff_id, 1 AS orders, cardinality(o.coupon_codes) AS coupons,
                      o.discount, o.amount AS paid, coalesce(p.delta, 0) AS points,
                      0::bigint AS refunds, 0 AS refund_count
               FROM orders o
               LEFT JOIN points_ledger p ON p.merchant_id = o.merchant_id
                                        AND p.ref = 'order:' || o.id
               WHERE o.merchant_id = $1 AND o.created_at >= $3 AND o.created_at < $4
                 AND ($2::text IS NULL OR o.store_id = $2)
               UNION ALL
               SELECT o.store_id, o.staff_id, 0, 0, 0, 0, 0, r.amount, 1
               FROM order_refunds r
               JOIN orders o ON o.merchant_id = r.merchant_id AND o.id = r.order_id
               WHERE r.merchant_id = $1 AND r.created_at >= $3 AND r.created_at < $4
                 AND ($2::text IS NULL OR o.store_id = $2))
           SELECT f.store_id, s.name AS store_name, f.staff_id, u.email AS staff_email,
                  u.removed_at AS staff_removed_at, sum(f.orders)::int AS orders,
                  sum(f.coupons)::int AS coupons, sum(f.discount)::bigint AS discount,
                  sum(f.points)::bigint AS points, sum(f.paid)::bigint AS paid,
                  sum(f.refunds)::bigint AS refunds, sum(f.refund_count)::int AS refund_count
           FROM facts f
           LEFT JOIN stores s ON s.merchant_id = $1 AND s.id = f.store_id
           LEFT JOIN merchant_users u ON u.id = f.staff_id
           GROUP BY f.store_id, s.name, f.staff_id, u.email, u.removed_at
           ORDER BY s.name NULLS LAST, f.store_id, u.email NULLS LAST, f.staff_id""",
        merchant_id, store_id, since, until,
    )


async def orders_for_export(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, *,
                            store_id: str | None, since: datetime | None,
                            until: datetime | None, after: tuple[datetime, str] | None,
                            limit: int) -> list[asyncpg.Record]:
    """One batch of the orders export, oldest first, after ``after`` (keyset on time, id)."""
    at, order_id = after if after else (None, None)
    return await conn.fetch(
        f"""SELECT {_LISTED}
            WHERE o.merchant_id = $1 AND ($2::text IS NULL OR o.store_id = $2)
              AND ($3::timestamptz IS NULL OR o.created_at >= $3)
              AND ($4::timestamptz IS NULL OR o.created_at < $4)
              AND ($5::timestamptz IS NULL OR (o.created_at, o.id) > ($5, $6::text))
            ORDER BY o.created_at, o.id LIMIT $7""",
        merchant_id, store_id, since, until, at, order_id, limit,
    )

