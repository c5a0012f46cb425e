"""The console's own SQL: its users, and the read models of its member pages and exports."""

from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool

_USER = "id, merchant_id, email, password_hash, created_at, last_login_at"


async def insert_user(conn: asyncpg.Connection, *, id: str, merchant_id: str, email: str,
                      password_hash: str, now: datetime) -> asyncpg.Record | None:
    """None when the email is taken."""
    return await conn.fetchrow(
        f"""INSERT INTO merchant_users (id, merchant_id, email, password_hash, created_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT ON CONSTRAINT merchant_users_email_key DO NOTHING RETURNING {_USER}""",
        id, merchant_id, email, password_hash, now,
    )


async def user_by_email(conn: Conn, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_USER} FROM merchant_users WHERE email = $1", email)


async def set_password_hash(conn: asyncpg.Connection, user_id: str, password_hash: str) -> None:
    await conn.execute("UPDATE merchant_users SET password_hash = $2 WHERE id = $1",
                       user_id, password_hash)


async def user_by_id(conn: Conn, user_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_USER} FROM merchant_users WHERE id = $1", user_id)


async def record_login(conn: Conn, user_id: str, now: datetime,
                       new_hash: str | None) -> None:
    await conn.execute(
        """UPDATE merchant_users SET last_login_at = $2,
                                     password_hash = coalesce($3, password_hash)
           WHERE id = $1""",
        user_id, now, new_hash,
    )


_MEMBER = "id, external_id, phone, name, birthday, points, tier, referrer_id, created_at"


def like_pattern(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_members(conn: Conn, merchant_id: str, q: str | None, before: str | None,
                         limit: int) -> list[asyncpg.Record]:
    """Newest first; q matches an id or external id exactly, a phone by its start, a name
    anywhere in it."""
    escaped = like_pattern(q) if q else None
    return await conn.fetch(
        f"""SELECT {_MEMBER} FROM members
            WHERE merchant_id = $1
              AND ($2::text IS NULL OR id = $2 OR external_id = $2
                   OR phone LIKE $3 || '%' OR name ILIKE '%' || $3 || '%')
              AND ($4::text IS NULL OR id < $4)
            ORDER BY id DESC LIMIT $5""",
        merchant_id, q, escaped, before, limit,
    )


async def count_members(conn: Conn, merchant_id: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM members WHERE merchant_id = $1",
                                   merchant_id))


async def orders_of_member(conn: Conn, merchant_id: str, member_id: str,
                           limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, amount, refunded, coupon_codes, created_at FROM orders
           WHERE merchant_id = $1 AND member_id = $2
           ORDER BY created_at DESC, id DESC LIMIT $3""",
        merchant_id, member_id, limit,
    )


async def order_totals_of_member(conn: Conn, merchant_id: str,
                                 member_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """SELECT count(*) AS orders, coalesce(sum(amount - refunded), 0) AS spent
           FROM orders WHERE merchant_id = $1 AND member_id = $2""",
        merchant_id, member_id,
    )
    assert row is not None
    return row


async def points_of_member(conn: Conn, member_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, delta, reason, created_at, expires_at FROM points_ledger
           WHERE member_id = $1 ORDER BY id DESC LIMIT $2""",
        member_id, limit,
    )


async def coupons_for_export(conn: Conn, merchant_id: str, template_id: str | None,
                             after: str | None, limit: int) -> list[asyncpg.Record]:
    """One batch of an export, in id order after ``after`` (keyset: each batch is one short
    index range read, however far into the export)."""
    return await conn.fetch(
        """SELECT c.id, c.code, c.template_id, t.name AS template_name, c.member_id,
                  m.external_id, m.phone, c.status, c.source, c.campaign_id, c.draw_id,
                  c.issued_at, c.expires_at, c.redeemed_at, c.order_id
           FROM coupons c
           JOIN coupon_templates t ON t.id = c.template_id
           JOIN members m ON m.id = c.member_id
           WHERE c.merchant_id = $1 AND ($2::text IS NULL OR c.template_id = $2)
             AND ($3::text IS NULL OR c.id > $3)
           ORDER BY c.id LIMIT $4""",
        merchant_id, template_id, after, limit,
    )
