"""The console's own SQL: its users."""

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
