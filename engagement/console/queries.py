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
