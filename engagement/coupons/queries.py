from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

_TEMPLATE = """id, name, discount, min_spend, stock, reserved, issued, redeemed,
    CASE WHEN stock IS NULL THEN NULL ELSE stock - reserved - issued END AS available,
    valid_days, per_member_limit, created_at"""


async def insert_template(conn: asyncpg.Connection, *, id: str, merchant_id: str, name: str,
                          discount: dict[str, Any], min_spend: int, stock: int | None,
                          valid_days: int | None, per_member_limit: int | None
                          ) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO coupon_templates
              (id, merchant_id, name, discount, min_spend, stock, valid_days, per_member_limit)
            VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8) RETURNING {_TEMPLATE}""",
        id, merchant_id, name, json.dumps(discount), min_spend, stock, valid_days,
        per_member_limit,
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
        """SELECT id, status, expires_at, valid_from, template_id, prize_id, member_id
           FROM coupons WHERE merchant_id = $1 AND code = $2""",
        merchant_id, code,
    )


async def mark_redeemed(conn: asyncpg.Connection, coupon_id: str, now: datetime,
                        order_id: str | None) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """UPDATE coupons SET status = 'redeemed', redeemed_at = $2, order_id = $3
           WHERE id = $1 AND status = 'issued'
           RETURNING code, status, redeemed_at, order_id, template_id, prize_id""",
        coupon_id, now, order_id,
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


async def expire_due(conn: asyncpg.Connection, now: datetime, batch: int) -> int:
    status = await conn.execute(
        """UPDATE coupons SET status = 'expired'
           WHERE id IN (SELECT id FROM coupons WHERE status = 'issued' AND expires_at <= $1
                        ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)""",
        now, batch,
    )
    return int(status.split()[-1])
