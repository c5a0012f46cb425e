"""The SQL of draws' monthly partitions (games/partitions/service.py): the catalogue, the
DDL of a month's partition, moving rows out of the default partition, the claims, and the
locks. DDL takes no parameters: partition names and bounds come from service.py, which
makes them from datetimes (never from input)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool


async def attached(conn: Conn) -> list[str]:
    """The names of the partitions attached to draws."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'draws'::regclass""")
    return [row["relname"] for row in rows]


async def columns(conn: asyncpg.Connection) -> str:
    """draws' columns, quoted, in order: the list a move between partitions names."""
    names = await conn.fetchval(
        """SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'draws'::regclass AND attnum > 0 AND NOT attisdropped""")
    return str(names)


async def lock_ddl(conn: asyncpg.Connection, lock_key: int, lock_timeout: str) -> None:
    """One DDL step at a time, waiting at most ``lock_timeout`` for any table lock."""
    await conn.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key)


async def create_month(conn: asyncpg.Connection, name: str, default: str, cols: str,
                       lo: str, hi: str) -> int:
    """Build the month ``name`` [lo, hi) as a plain table, move its rows in from the default
    partition, attach it; returns the rows moved. Call inside a transaction."""
    # No draw reaches the default partition while its rows move (ATTACH would find it).
    await conn.execute(f"LOCK TABLE {default} IN SHARE ROW EXCLUSIVE MODE")
    await conn.execute(
        f"CREATE TABLE {name} (LIKE draws INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    # A plain table has no claim trigger: the moved rows keep the claims they hold.
    moved = await conn.execute(
        f"""WITH moved AS (DELETE FROM {default}
                           WHERE created_at >= {lo} AND created_at < {hi}
                           RETURNING {cols})
            INSERT INTO {name} ({cols}) SELECT {cols} FROM moved""")
    await conn.execute(f"ALTER TABLE draws ATTACH PARTITION {name} "
                       f"FOR VALUES FROM ({lo}) TO ({hi})")
    return int(moved.split()[-1])


async def months_in(conn: asyncpg.Connection, partition: str) -> list[datetime]:
    """The UTC months (naive first instants) that rows of ``partition`` fall in."""
    rows = await conn.fetch(
        f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC') AS month "
        f"FROM {partition}")
    return [row["month"] for row in rows]


async def purge_key_claims(conn: asyncpg.Connection, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` claims of Idempotency-Keys drawn before ``before``."""
    status = await conn.execute(
        """DELETE FROM draw_idempotency_keys WHERE ctid = ANY (ARRAY(
               SELECT ctid FROM draw_idempotency_keys WHERE created_at < $1 LIMIT $2))""",
        before, limit)
    return int(status.split()[-1])


async def still_needed(conn: asyncpg.Connection, name: str) -> bool:
    """Unsettled wins, or draws of a campaign that is not over."""
    return bool(await conn.fetchval(
        f"""SELECT EXISTS (SELECT 1 FROM {name} WHERE outcome = 'win' AND settled_at IS NULL)
               OR EXISTS (SELECT 1 FROM campaigns c WHERE c.status <> 'ended'
                          AND EXISTS (SELECT 1 FROM {name} d WHERE d.campaign_id = c.id))"""))


async def copy_to_csv(conn: asyncpg.Connection, name: str, output: Path) -> int:
    """The partition as CSV with a header; returns the rows written."""
    status = await conn.copy_from_table(name, output=output, format="csv", header=True)
    return int(status.split()[-1])


async def delete_claims(conn: asyncpg.Connection, name: str) -> None:
    """Forget the win-number and key claims of the draws in partition ``name``."""
    await conn.execute(
        f"""DELETE FROM draw_win_seqs w USING {name} d
            WHERE d.win_seq IS NOT NULL AND w.prize_id = d.prize_id
              AND w.win_seq = d.win_seq AND w.draw_id = d.id""")
    await conn.execute(
        f"""DELETE FROM draw_idempotency_keys k USING {name} d
            WHERE d.idempotency_key IS NOT NULL AND k.campaign_id = d.campaign_id
              AND k.member_id = d.member_id AND k.idempotency_key = d.idempotency_key
              AND k.draw_id = d.id""")


async def lock_draws(conn: asyncpg.Connection) -> None:
    """The parent first, as DETACH takes it: draws wait for the few statements after it."""
    await conn.execute("LOCK TABLE draws IN ACCESS EXCLUSIVE MODE")


async def detach_and_drop(conn: asyncpg.Connection, name: str) -> None:
    await conn.execute(f"ALTER TABLE draws DETACH PARTITION {name}")
    await conn.execute(f"DROP TABLE {name}")


async def try_run_lock(conn: asyncpg.Connection, key: int) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))


async def run_unlock(conn: asyncpg.Connection, key: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", key)
