"""The console's own SQL: its users."""

from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool

_USER = ("id, merchant_id, email, password_hash, role, store_id, created_at, last_login_at, "
         "removed_at")


async def insert_user(conn: asyncpg.Connection, *, id: str, merchant_id: str, email: str,
                      password_hash: str, role: str, store_id: str | None,
                      now: datetime) -> asyncpg.Record | None:
    """None when the email is taken by an active user."""
    return await conn.fetchrow(
        f"""INSERT INTO merchant_users (id, merchant_id, email, password_hash, role, store_id,
                                        created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (email) WHERE removed_at IS NULL DO NOTHING RETURNING {_USER}""",
        id, merchant_id, email, password_hash, role, store_id, now,
    )


async def user_by_email(conn: Conn, email: str) -> asyncpg.Record | None:
    """The active user with this email (removed users cannot sign in)."""
    return await conn.fetchrow(
        f"SELECT {_USER} FROM merchant_users WHERE email = $1 AND removed_at IS NULL", email)


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


# Staff (an owner's view of the console users)

_STAFF = """u.id, u.email, u.role, u.store_id, s.name AS store_name, u.created_at,
            u.last_login_at"""


async def lock_staff(conn: asyncpg.Connection, merchant_id: str) -> None:
    """Serialise the merchant's staff changes until the transaction ends. NO KEY UPDATE:
    it waits for other staff changes, not for rows that merely reference the merchant."""
    await conn.execute("SELECT 1 FROM merchants WHERE id = $1 FOR NO KEY UPDATE", merchant_id)


async def staff_of_merchant(conn: Conn, merchant_id: str) -> list[asyncpg.Record]:
    """The active staff: owners first, then managers, then cashiers; by email within."""
    return await conn.fetch(
        f"""SELECT {_STAFF} FROM merchant_users u
                LEFT JOIN stores s ON s.merchant_id = u.merchant_id AND s.id = u.store_id
            WHERE u.merchant_id = $1 AND u.removed_at IS NULL
            ORDER BY array_position(ARRAY['owner', 'manager', 'cashier'], u.role), u.email""",
        merchant_id)


async def staff_member(conn: Conn, merchant_id: str, user_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {_STAFF} FROM merchant_users u
                LEFT JOIN stores s ON s.merchant_id = u.merchant_id AND s.id = u.store_id
            WHERE u.merchant_id = $1 AND u.id = $2 AND u.removed_at IS NULL""",
        merchant_id, user_id)


async def count_owners(conn: asyncpg.Connection, merchant_id: str, *, besides: str) -> int:
    return int(await conn.fetchval(
        """SELECT count(*) FROM merchant_users
           WHERE merchant_id = $1 AND role = 'owner' AND removed_at IS NULL AND id <> $2""",
        merchant_id, besides))


async def update_staff(conn: asyncpg.Connection, merchant_id: str, user_id: str, *,
                       role: str, store_id: str | None) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """UPDATE merchant_users SET role = $3, store_id = $4
           WHERE merchant_id = $1 AND id = $2 AND removed_at IS NULL RETURNING id""",
        merchant_id, user_id, role, store_id)


async def remove_user(conn: asyncpg.Connection, merchant_id: str, user_id: str,
                      now: datetime) -> None:
    await conn.execute(
        """UPDATE merchant_users SET removed_at = $3
           WHERE merchant_id = $1 AND id = $2 AND removed_at IS NULL""",
        merchant_id, user_id, now)
