from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_TEMPLATE = """id, name, discount, min_spend, stock, reserved, issued, redeemed,
    CASE WHEN stock IS NULL THEN NULL ELSE stock - reserved - issued END AS available,
    valid_days, per_member_limit, stackable, created_at"""


async def insert_template(conn: asyncpg.Connection, *, id: str, merchant_id: str, name: str,
                          discount: dict[str, Any], min_spend: int, stock: int | None,
                          valid_days: int | None, per_member_limit: int | None,
                          stackable: bool) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO coupon_templates
              (id, merchant_id, name, discount, min_spend, stock, valid_days, per_member_limit,
               stackable)
            VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9) RETURNING {_TEMPLATE}""",
        id, merchant_id, name, json.dumps(discount), min_spend, stock, valid_days,
        per_member_limit, stackable,
    )
    assert row is not None
    return row


async def template_by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         template_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_TEMPLATE} FROM coupon_templates WHERE merchant_id = $1 AND id = $2",
        merchant_id, template_id,
    )


async def templates_by_ids(conn: asyncpg.Connection, merchant_id: str,
                           ids: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_TEMPLATE} FROM coupon_templates WHERE merchant_id = $1 AND id = ANY($2)",
        merchant_id, ids,
    )


async def adjust_template_counters(conn: asyncpg.Connection, template_id: str, *,
                                   reserved: int = 0, issued: int = 0, redeemed: int = 0) -> None:
    """Counters move together in one UPDATE; the table's CHECKs refuse any oversell."""
    await conn.execute(
        """UPDATE coupon_templates
           SET reserved = reserved + $2, issued = issued + $3, redeemed = redeemed + $4
           WHERE id = $1""",
        template_id, reserved, issued, redeemed,
    )


async def insert_coupons(conn: asyncpg.Connection,
                         rows: list[tuple[Any, ...]]) -> list[asyncpg.Record]:
    """Bulk insert (one round trip); a draw that already has its coupon is skipped."""
    return await conn.fetch(
        """INSERT INTO coupons (id, merchant_id, template_id, member_id, code, source, draw_id,
                                campaign_id, prize_id, valid_from, expires_at, issued_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::text[], $7::text[], $8::text[], $9::text[],
                                $10::timestamptz[], $11::timestamptz[], $12::timestamptz[])
           ON CONFLICT (draw_id) DO NOTHING
           RETURNING template_id, prize_id, draw_id""",
        *[list(col) for col in zip(*rows, strict=True)],
    )


async def coupon_by_code(conn: asyncpg.Connection, merchant_id: str,
                         code: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, code, status, expires_at, valid_from, template_id, prize_id, member_id
           FROM coupons WHERE merchant_id = $1 AND code = $2""",
        merchant_id, code,
    )


async def mark_redeemed(conn: asyncpg.Connection, coupon_id: str, now: datetime,
                        order_id: str | None,
                        store_id: str | None = None) -> asyncpg.Record | None:
    """None unless the coupon was still issued: of racing redemptions one wins, the others
    wait on the row lock and then find it redeemed."""
    return await conn.fetchrow(
        """UPDATE coupons SET status = 'redeemed', redeemed_at = $2, order_id = $3,
                              store_id = $4
           WHERE id = $1 AND status = 'issued'
           RETURNING code, status, redeemed_at, order_id, template_id, prize_id""",
        coupon_id, now, order_id, store_id,
    )


async def return_coupons(conn: asyncpg.Connection, merchant_id: str, order_id: str,
                         now: datetime) -> list[asyncpg.Record]:
    """Give the coupons an order used (order_coupons) back, status issued, unless they have
    expired since."""
    return await conn.fetch(
        """UPDATE coupons SET status = 'issued', redeemed_at = NULL, order_id = NULL,
                              store_id = NULL
           WHERE id IN (SELECT coupon_id FROM order_coupons
                        WHERE merchant_id = $1 AND order_id = $2)
             AND order_id = $2 AND status = 'redeemed'
             AND (expires_at IS NULL OR expires_at > $3)
           RETURNING code, template_id, prize_id""",
        merchant_id, order_id, now,
    )


async def coupons_of_member(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                            before_id: str | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT c.id, c.code, c.template_id, t.name, t.discount, t.min_spend, c.status,
                  c.source, c.draw_id, c.campaign_id, c.issued_at, c.expires_at, c.redeemed_at
           FROM coupons c JOIN coupon_templates t ON t.id = c.template_id
           WHERE c.member_id = $1 AND ($2::text IS NULL OR c.id < $2)
           ORDER BY c.id DESC LIMIT $3""",
        member_id, before_id, limit,
    )


# The till's view of a coupon: what it is worth and whether it may go with another.
_AT_TILL = """c.code, c.member_id, c.status, c.valid_from, c.expires_at, c.template_id,
    t.name, t.discount, t.min_spend, t.stackable"""


async def usable_coupons_of_members(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                                    member_ids: list[str], now: datetime,
                                    per_member: int) -> list[asyncpg.Record]:
    """Coupons the members may use now (issued, valid from before now, not expired), the
    soonest to expire first, at most ``per_member`` each (coupons_member_idx)."""
    return await conn.fetch(
        f"""SELECT * FROM (
              SELECT {_AT_TILL}, row_number() OVER (
                  PARTITION BY c.member_id
                  ORDER BY c.expires_at ASC NULLS LAST, c.id DESC) AS n
              FROM coupons c JOIN coupon_templates t ON t.id = c.template_id
              WHERE c.merchant_id = $1 AND c.member_id = ANY($2::text[])
                AND c.status = 'issued' AND c.valid_from <= $3
                AND (c.expires_at IS NULL OR c.expires_at > $3)) usable
            WHERE n <= $4 ORDER BY member_id, n""",
        merchant_id, member_ids, now, per_member,
    )


async def coupon_at_till(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         code: str) -> asyncpg.Record | None:
    """One coupon of the merchant by its code, whatever its status."""
    return await conn.fetchrow(
        f"""SELECT {_AT_TILL} FROM coupons c JOIN coupon_templates t ON t.id = c.template_id
            WHERE c.merchant_id = $1 AND c.code = $2""",
        merchant_id, code,
    )


async def expire_due(conn: asyncpg.Connection, now: datetime, batch: int) -> int:
    status = await conn.execute(
        """UPDATE coupons SET status = 'expired'
           WHERE id IN (SELECT id FROM coupons WHERE status = 'issued' AND expires_at <= $1
                        ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)""",
        now, batch,
    )
    return int(status.split()[-1])


async def insert_coupon(conn: asyncpg.Connection, *, id: str, merchant_id: str,
                        template_id: str, member_id: str, code: str, source: str,
                        expires_at: datetime | None, now: datetime) -> asyncpg.Record | None:
    """One coupon outside any draw; None when the code is taken (the caller draws another)."""
    return await conn.fetchrow(
        """INSERT INTO coupons (id, merchant_id, template_id, member_id, code, source,
                                valid_from, expires_at, issued_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)
           ON CONFLICT ON CONSTRAINT coupons_merchant_code_key DO NOTHING
           RETURNING id, code, template_id, member_id, source, issued_at, expires_at""",
        id, merchant_id, template_id, member_id, code, source, now, expires_at,
    )


async def lock_member_template(conn: asyncpg.Connection, member_id: str,
                               template_id: str) -> None:
    """Serialise issues of one template to one member until the transaction ends, so that
    two at once cannot both pass the per-member limit's count."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       f"coupon-limit:{member_id}:{template_id}")


async def count_member_coupons(conn: asyncpg.Connection, member_id: str,
                               template_id: str) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM coupons WHERE member_id = $1 AND template_id = $2",
        member_id, template_id,
    ))


async def coupons_by_codes(conn: asyncpg.Connection, merchant_id: str,
                           codes: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT c.id, c.code, c.status, c.member_id, c.template_id, c.expires_at,
                  c.valid_from, t.name, t.discount, t.min_spend, t.stackable
           FROM coupons c JOIN coupon_templates t ON t.id = c.template_id
           WHERE c.merchant_id = $1 AND c.code = ANY($2::text[])""",
        merchant_id, codes,
    )


async def templates_of_merchant(conn: asyncpg.Connection | asyncpg.Pool,
                                merchant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_TEMPLATE} FROM coupon_templates WHERE merchant_id = $1 ORDER BY id DESC",
        merchant_id,
    )


async def templates_page(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         before: str | None, limit: int) -> list[asyncpg.Record]:
    """Newest first, those older than ``before`` (a template id): a keyset page, as cheap
    on the last page as on the first (coupon_templates_merchant_idx)."""
    return await conn.fetch(
        f"""SELECT {_TEMPLATE} FROM coupon_templates
            WHERE merchant_id = $1 AND ($2::text IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3""",
        merchant_id, before, limit,
    )


async def update_template(conn: asyncpg.Connection, template_id: str, *, name: str | None,
                          discount: dict[str, Any] | None, min_spend: int | None,
                          valid_days: int | None, per_member_limit: int | None,
                          clear_per_member_limit: bool, stackable: bool | None
                          ) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""UPDATE coupon_templates SET name = coalesce($2, name),
                discount = coalesce($3::text::jsonb, discount),
                min_spend = coalesce($4, min_spend), valid_days = coalesce($5, valid_days),
                per_member_limit = CASE WHEN $7 THEN NULL
                                        ELSE coalesce($6, per_member_limit) END,
                stackable = coalesce($8, stackable)
            WHERE id = $1 RETURNING {_TEMPLATE}""",
        template_id, name, json.dumps(discount) if discount is not None else None, min_spend,
        valid_days, per_member_limit, clear_per_member_limit, stackable,
    )
    assert row is not None
    return row


async def add_stock(conn: asyncpg.Connection, template_id: str,
                    delta: int) -> asyncpg.Record | None:
    """Move a limited template's stock; the coupon_templates_available_nonnegative CHECK
    refuses to go below what is reserved and issued. None for an unlimited template."""
    return await conn.fetchrow(
        f"""UPDATE coupon_templates SET stock = stock + $2
            WHERE id = $1 AND stock IS NOT NULL RETURNING {_TEMPLATE}""",
        template_id, delta,
    )


async def coupons_for_export(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                             template_id: str | None, after: str | None,
                             limit: int, store_id: str | None = None) -> list[asyncpg.Record]:
    """One batch of an export, in id order after ``after`` (keyset: each batch is one short
    index range read, however far into the export); with ``store_id``, the coupons
    redeemed at that store."""
    return await conn.fetch(
        """SELECT c.id, c.code, c.template_id, t.name AS template_name, c.member_id,
                  m.external_id, m.phone, c.status, c.source, c.campaign_id, c.draw_id,
                  c.issued_at, c.expires_at, c.redeemed_at, c.order_id, c.store_id,
                  s.name AS store_name
           FROM coupons c
           JOIN coupon_templates t ON t.id = c.template_id
           JOIN members m ON m.id = c.member_id
           LEFT JOIN stores s ON s.merchant_id = c.merchant_id AND s.id = c.store_id
           WHERE c.merchant_id = $1 AND ($2::text IS NULL OR c.template_id = $2)
             AND ($3::text IS NULL OR c.id > $3)
             AND ($5::text IS NULL OR c.store_id = $5)
           ORDER BY c.id LIMIT $4""",
        merchant_id, template_id, after, limit, store_id,
    )
