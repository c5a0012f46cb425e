from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

_UPDATABLE = ("phone", "name", "birthday")
_COLUMNS = "id, external_id, phone, name, birthday, points, tier, referrer_id, created_at"


async def insert_member(conn: asyncpg.Connection, *, id: str, merchant_id: str, external_id: str,
                        phone: str | None, name: str | None, birthday: date | None,
                        referrer_id: str | None) -> asyncpg.Record | None:
    """Insert unless the external_id exists; None means it already did."""
    return await conn.fetchrow(
        f"""INSERT INTO members (id, merchant_id, external_id, phone, name, birthday, referrer_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT ON CONSTRAINT members_merchant_external_key DO NOTHING
            RETURNING {_COLUMNS}""",
        id, merchant_id, external_id, phone, name, birthday, referrer_id,
    )


async def member_by_external_id(conn: asyncpg.Connection, merchant_id: str,
                                external_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM members WHERE merchant_id = $1 AND external_id = $2",
        merchant_id, external_id,
    )


async def member_by_phone(conn: asyncpg.Connection, merchant_id: str,
                          phone: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM members WHERE merchant_id = $1 AND phone = $2", merchant_id, phone
    )


async def members_by_phone_tail(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                                tail: str, limit: int) -> list[asyncpg.Record]:
    """Members whose phone ends with ``tail`` (the till's 手机尾号), newest first. The
    expression is the one members_merchant_phone_tail_idx indexes."""
    return await conn.fetch(
        f"""SELECT {_COLUMNS} FROM members
            WHERE merchant_id = $1 AND phone IS NOT NULL AND right(phone, 4) = $2
            ORDER BY id DESC LIMIT $3""",
        merchant_id, tail, limit,
    )


async def member_by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       member_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM members WHERE merchant_id = $1 AND id = $2", merchant_id, member_id
    )


async def update_member(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                        changes: dict[str, Any], *,
                        birthday_once: bool) -> asyncpg.Record | None:
    """Set the given columns (of phone, name, birthday). With ``birthday_once`` a birthday
    is written only while none is on file (or the same one is sent again): the condition
    sits in the UPDATE, so two first tries at once cannot both set one. None when no row
    matched: no such member, or the birthday was locked."""
    given = {column: column in changes for column in _UPDATABLE}
    return await conn.fetchrow(
        f"""UPDATE members SET
              phone = CASE WHEN $3 THEN $4 ELSE phone END,
              name = CASE WHEN $5 THEN $6 ELSE name END,
              birthday = CASE WHEN $7 THEN $8::date ELSE birthday END
            WHERE merchant_id = $1 AND id = $2
              AND (NOT $9 OR NOT $7 OR birthday IS NULL OR birthday IS NOT DISTINCT FROM $8::date)
            RETURNING {_COLUMNS}""",
        merchant_id, member_id, given["phone"], changes.get("phone"), given["name"],
        changes.get("name"), given["birthday"], changes.get("birthday"), birthday_once,
    )


async def insert_token(conn: asyncpg.Connection, *, id: str, merchant_id: str, member_id: str,
                       token_hash: bytes, expires_at: datetime) -> None:
    await conn.execute(
        """INSERT INTO member_tokens (id, merchant_id, member_id, token_hash, expires_at)
           VALUES ($1, $2, $3, $4, $5)""",
        id, merchant_id, member_id, token_hash, expires_at,
    )


async def principal_by_token_hash(conn: asyncpg.Connection | asyncpg.Pool, token_hash: bytes,
                                  now: datetime) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT t.member_id, t.expires_at, m.id, m.slug, m.name, m.currency, m.time_zone,
                  m.settings, m.created_at
           FROM member_tokens t JOIN merchants m ON m.id = t.merchant_id
           WHERE t.token_hash = $1 AND t.expires_at > $2""",
        token_hash, now,
    )


async def delete_expired_tokens(conn: asyncpg.Connection, now: datetime) -> int:
    status = await conn.execute("DELETE FROM member_tokens WHERE expires_at <= $1", now)
    return int(status.split()[-1])


# The console's member pages.

_LISTED = "id, external_id, phone, name, birthday, points, tier, referrer_id, created_at"


def like_pattern(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_members(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         q: str | None, before: str | None,
                         limit: int) -> list[asyncpg.Record]:
    """Newest first; q matches an id or external id exactly, a phone by its start or, four
    digits or more, by its end (手机尾号, the way a café looks a member up), a name anywhere
    in it."""
    escaped = like_pattern(q) if q else None
    return await conn.fetch(
        f"""SELECT {_LISTED} FROM members
            WHERE merchant_id = $1
              AND ($2::text IS NULL OR id = $2 OR external_id = $2
                   OR phone LIKE $3 || '%' OR name ILIKE '%' || $3 || '%'
                   OR ($2 ~ '^[0-9]{{4,}}$' AND phone LIKE '%' || $3))
              AND ($4::text IS NULL OR id < $4)
            ORDER BY id DESC LIMIT $5""",
        merchant_id, q, escaped, before, limit,
    )


async def count_members(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM members WHERE merchant_id = $1",
                                   merchant_id))
