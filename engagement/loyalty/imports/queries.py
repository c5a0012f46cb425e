"""SQL of member imports. A batch of rows is copied into a temporary staging table, then
applied with a few set-based statements (insert the new members, update the changed ones,
credit opening points), so a batch of thousands of rows costs a handful of round trips."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import asyncpg

_COLUMNS = """id, status, filename, rows, processed, created, updated, unchanged, failed,
              created_at, started_at, finished_at"""


async def insert_import(conn: asyncpg.Connection, *, id: str, merchant_id: str,
                        filename: str | None, body: bytes, rows: int, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO member_imports (id, merchant_id, filename, body, rows, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        id, merchant_id, filename, body, rows, now)


async def import_by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       import_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM member_imports WHERE merchant_id = $1 AND id = $2",
        merchant_id, import_id)


async def recent_imports(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_COLUMNS} FROM member_imports WHERE merchant_id = $1
            ORDER BY id DESC LIMIT $2""", merchant_id, limit)


async def errors_of(conn: asyncpg.Connection | asyncpg.Pool,
                    import_id: str, limit: int | None = None) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT row_no, code FROM member_import_errors WHERE import_id = $1
           ORDER BY row_no LIMIT $2""", import_id, limit)


async def lock_import(conn: asyncpg.Connection, import_id: str) -> asyncpg.Record | None:
    """The import, locked for one batch: two runs of one import take turns."""
    return await conn.fetchrow(
        """SELECT id, merchant_id, status, body, rows, processed, started_at
           FROM member_imports WHERE id = $1 FOR UPDATE""", import_id)


async def record_batch(conn: asyncpg.Connection, import_id: str, *, processed: int,
                       created: int, updated: int, unchanged: int,
                       errors: Sequence[tuple[int, str]], now: datetime) -> None:
    if errors:
        await conn.copy_records_to_table(
            "member_import_errors", columns=("import_id", "row_no", "code"),
            records=[(import_id, row, code) for row, code in errors])
    await conn.execute(
        """UPDATE member_imports
           SET status = 'running', started_at = coalesce(started_at, $7), processed = $2,
               created = created + $3, updated = updated + $4, unchanged = unchanged + $5,
               failed = failed + $6
           WHERE id = $1""",
        import_id, processed, created, updated, unchanged, len(errors), now)


async def finish(conn: asyncpg.Connection, import_id: str, now: datetime) -> None:
    """Done: the file is no longer needed (the counts and errors stay)."""
    await conn.execute(
        """UPDATE member_imports SET status = 'done', body = NULL,
               started_at = coalesce(started_at, $2), finished_at = $2
           WHERE id = $1""", import_id, now)


async def pending_ids(conn: asyncpg.Connection | asyncpg.Pool) -> list[str]:
    rows = await conn.fetch(
        "SELECT id FROM member_imports WHERE status <> 'done' ORDER BY created_at")
    return [r["id"] for r in rows]


async def tier_names(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> set[str]:
    rows = await conn.fetch("SELECT name FROM tiers WHERE merchant_id = $1", merchant_id)
    return {r["name"] for r in rows}


async def existing_members(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                           external_ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        """SELECT m.external_id FROM unnest($2::text[]) AS f(external_id)
           JOIN members m ON m.merchant_id = $1 AND m.external_id = f.external_id""",
        merchant_id, external_ids)
    return {r["external_id"] for r in rows}


async def phone_holders(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                        phones: list[str]) -> dict[str, str]:
    """phone -> external_id of the member of this merchant who has it. The phones are
    joined as a table (= ANY of thousands would test each of the merchant's members
    against every one of them)."""
    rows = await conn.fetch(
        """SELECT m.phone, m.external_id FROM unnest($2::text[]) AS f(phone)
           JOIN members m ON m.merchant_id = $1 AND m.phone = f.phone""", merchant_id, phones)
    return {r["phone"]: r["external_id"] for r in rows}


StagedRow = tuple[int, str, str | None, str | None, date | None, int, str | None, str, str]
_STAGED = ("row_no", "external_id", "phone", "name", "birthday", "points", "tier",
           "new_member_id", "entry_id")


async def stage(conn: asyncpg.Connection, rows: list[StagedRow]) -> None:
    """The batch's good rows into a staging table that lives until the commit."""
    await conn.execute(
        """CREATE TEMP TABLE import_batch (
               row_no integer PRIMARY KEY, external_id text NOT NULL, phone text, name text,
               birthday date, points bigint NOT NULL, tier text, new_member_id text NOT NULL,
               entry_id text NOT NULL, member_id text, outcome text
           ) ON COMMIT DROP""")
    await conn.copy_records_to_table("import_batch", columns=_STAGED, records=rows)
    # A fresh table has no statistics: without them the planner joins it by nested loops
    # (thousands of rows times thousands); with them, by hashes.
    await conn.execute("ANALYZE import_batch")


async def apply_staged(conn: asyncpg.Connection, merchant_id: str, now: datetime,
                       expires_at: datetime | None) -> list[asyncpg.Record]:
    """Apply the staged rows; returns (row_no, outcome) for each, outcome one of created,
    updated, unchanged or phone_taken.

    Existing members are locked first, in id order (two batches never wait on each other
    in a circle over them). New members are inserted ON CONFLICT DO NOTHING on every unique
    key: a member another run created meanwhile is then found as existing, and a row whose
    phone another member took meanwhile is found as neither (phone_taken). Opening points go
    to the ledger under ref 'import:<member id>', skipped when that ref exists, and the
    balance moves by exactly what was inserted: a member created here starts with the
    points its (fresh, so unconflicting) entry credits; an existing one is moved by it."""
    await conn.execute(
        """SELECT m.id FROM members m JOIN import_batch s ON s.external_id = m.external_id
           WHERE m.merchant_id = $1 ORDER BY m.id FOR UPDATE OF m""", merchant_id)
    await conn.execute(
        """WITH inserted AS (
               INSERT INTO members (id, merchant_id, external_id, phone, name, birthday, tier,
                                    points, created_at)
               SELECT new_member_id, $1, external_id, phone, name, birthday, tier, points, $2
               FROM import_batch ORDER BY row_no
               ON CONFLICT DO NOTHING
               RETURNING id)
           UPDATE import_batch s SET member_id = s.new_member_id, outcome = 'created'
           FROM inserted WHERE inserted.id = s.new_member_id""", merchant_id, now)
    await conn.execute(
        """UPDATE import_batch s SET member_id = m.id
           FROM members m
           WHERE s.outcome IS NULL AND m.merchant_id = $1 AND m.external_id = s.external_id""",
        merchant_id)
    await conn.execute(
        "UPDATE import_batch SET outcome = 'phone_taken' WHERE member_id IS NULL")
    await conn.execute(
        """WITH changed AS (
               UPDATE members m
               SET phone = coalesce(s.phone, m.phone), name = coalesce(s.name, m.name),
                   birthday = coalesce(s.birthday, m.birthday), tier = coalesce(s.tier, m.tier)
               FROM import_batch s
               WHERE s.outcome IS NULL AND m.id = s.member_id
                 AND ((s.phone IS NOT NULL AND s.phone IS DISTINCT FROM m.phone)
                      OR (s.name IS NOT NULL AND s.name IS DISTINCT FROM m.name)
                      OR (s.birthday IS NOT NULL AND s.birthday IS DISTINCT FROM m.birthday)
                      OR (s.tier IS NOT NULL AND s.tier IS DISTINCT FROM m.tier))
               RETURNING s.row_no)
           UPDATE import_batch s SET outcome = 'updated'
           FROM changed WHERE changed.row_no = s.row_no""")
    await conn.execute(
        """WITH credited AS (
               INSERT INTO points_ledger (id, merchant_id, member_id, delta, reason, ref,
                                          created_at, expires_at)
               SELECT entry_id, $1, member_id, points, 'import', 'import:' || member_id, $2, $3
               FROM import_batch
               WHERE points > 0 AND outcome IS DISTINCT FROM 'phone_taken'
               ORDER BY member_id
               ON CONFLICT ON CONSTRAINT points_ledger_ref_key DO NOTHING
               RETURNING member_id, delta),
           moved AS (
               UPDATE members m SET points = m.points + c.delta
               FROM credited c JOIN import_batch s ON s.member_id = c.member_id
               WHERE m.id = c.member_id AND s.outcome IS DISTINCT FROM 'created'
               RETURNING m.id)
           UPDATE import_batch s SET outcome = 'updated'
           FROM moved WHERE moved.id = s.member_id AND s.outcome IS NULL""", merchant_id, now,
        expires_at)
    return await conn.fetch(
        """SELECT row_no, coalesce(outcome, 'unchanged') AS outcome FROM import_batch
           ORDER BY row_no""")


async def stored_file(conn: asyncpg.Connection | asyncpg.Pool, import_id: str) -> bytes | None:
    """The uploaded file of an import not yet done (None once it is, or when unknown)."""
    value: bytes | None = await conn.fetchval(
        "SELECT body FROM member_imports WHERE id = $1 AND status <> 'done'", import_id)
    return value
