"""The draws table's monthly partitions (migration 0028_draws_partitioned).

Each calendar month in UTC is one partition, ``draws_pYYYYMM``; ``draws_default`` catches a
draw no month holds yet, so a draw is never refused for want of a partition. The daily cron
(``maintain``) keeps them in order, every step idempotent and all of it under one advisory
lock, so two workers never race:

- the current month and the next ``AHEAD_MONTHS`` exist;
- rows that reached the default partition move into their month's partition;
- claims of Idempotency-Keys older than ``KEY_CLAIM_DAYS`` are purged (keys last at least
  24 hours; Redis keeps its record 48), which keeps ``draw_idempotency_keys`` small;
- with ``draws_retention_months`` set, each month older than that many whole months is
  archived to CSV under the data dir (or not, with ``draws_archive = "drop"``), detached and
  dropped, with its wins' sequence claims; never one that still holds unsettled wins, nor
  one holding draws of a campaign that has not ended (re-priming a live campaign counts its
  draws and wins in PostgreSQL, so they must stay).

A new month is built as a plain table and attached (ATTACH takes a lock that lets draws go
on; only the default partition is locked while its rows move); retiring an old one writes
its CSV and deletes its claims first, then locks the table for a re-check, the detach and
the drop.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import asyncpg

from engagement.kit.config import Settings

log = logging.getLogger(__name__)

AHEAD_MONTHS = 2
KEY_CLAIM_DAYS = 7
# Key claims are purged this many rows per statement, so no DELETE holds locks for long.
PURGE_BATCH = 10_000
# DDL waits at most this long for its lock (queries queued behind it wait as long, once a
# day at most); the cron tries again on its next run.
LOCK_TIMEOUT = "2s"
# Advisory lock keys: one DDL step at a time ("draw"), one maintenance run at a time ("drwm").
_LOCK_KEY = 0x64726177
_RUN_KEY = 0x6472776D
DEFAULT_PARTITION = "draws_default"
_NAME = re.compile(r"^draws_p(\d{4})(\d{2})$")


def month_of(at: datetime) -> datetime:
    """The first instant of ``at``'s month in UTC."""
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def add_months(month: datetime, n: int) -> datetime:
    index = month.year * 12 + month.month - 1 + n
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(month: datetime) -> str:
    return f"draws_p{month:%Y%m}"


def _literal(at: datetime) -> str:
    """A UTC instant as a SQL literal for partition bounds (DDL takes no parameters)."""
    return f"'{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


async def partitions(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, datetime]:
    """The monthly partitions attached to draws: name -> the month's first instant."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'draws'::regclass""")
    found = {}
    for row in rows:
        if match := _NAME.match(row["relname"]):
            found[row["relname"]] = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
    return dict(sorted(found.items()))


async def _columns(conn: asyncpg.Connection) -> str:
    names = await conn.fetchval(
        """SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'draws'::regclass AND attnum > 0 AND NOT attisdropped""")
    return str(names)


async def _lock(conn: asyncpg.Connection) -> None:
    await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)


async def ensure_month(conn: asyncpg.Connection, month: datetime) -> bool:
    """Create the month's partition unless it exists, moving in its rows from the default
    partition; True when it was created."""
    name, lo, hi = partition_name(month), _literal(month), _literal(add_months(month, 1))
    async with conn.transaction():
        await _lock(conn)
        if name in await partitions(conn):
            return False
        columns = await _columns(conn)
        # No draw reaches the default partition while its rows move (ATTACH would find it).
        await conn.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN SHARE ROW EXCLUSIVE MODE")
        await conn.execute(
            f"CREATE TABLE {name} (LIKE draws INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        # A plain table has no claim trigger: the moved rows keep the claims they hold.
        moved = await conn.execute(
            f"""WITH moved AS (DELETE FROM {DEFAULT_PARTITION}
                               WHERE created_at >= {lo} AND created_at < {hi}
                               RETURNING {columns})
                INSERT INTO {name} ({columns}) SELECT {columns} FROM moved""")
        await conn.execute(f"ALTER TABLE draws ATTACH PARTITION {name} "
                           f"FOR VALUES FROM ({lo}) TO ({hi})")
    count = int(moved.split()[-1])
    log.info("draws: partition %s created (%d rows moved from the default)", name, count)
    return True


async def ensure_ahead(conn: asyncpg.Connection, now: datetime,
                       ahead: int = AHEAD_MONTHS) -> list[str]:
    """The current month and the next ``ahead``: the names of those created now."""
    current = month_of(now)
    months = [add_months(current, n) for n in range(ahead + 1)]
    return [partition_name(m) for m in months if await ensure_month(conn, m)]


async def sweep_default(conn: asyncpg.Connection) -> list[str]:
    """Give every month found in the default partition its own partition (the rows move)."""
    months = await conn.fetch(
        f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC') AS month "
        f"FROM {DEFAULT_PARTITION}")
    created = []
    for row in months:
        month = row["month"].replace(tzinfo=UTC)
        if await ensure_month(conn, month):
            created.append(partition_name(month))
    return created


async def purge_key_claims(conn: asyncpg.Connection, before: datetime) -> int:
    """Forget claims of Idempotency-Keys drawn before ``before``, a batch at a time."""
    total = 0
    while True:
        status = await conn.execute(
            """DELETE FROM draw_idempotency_keys WHERE ctid = ANY (ARRAY(
                   SELECT ctid FROM draw_idempotency_keys WHERE created_at < $1 LIMIT $2))""",
            before, PURGE_BATCH)
        n = int(status.split()[-1])
        total += n
        if n < PURGE_BATCH:
            return total


@dataclass
class Retention:
    archived: list[str] = field(default_factory=list)  # written to CSV, then dropped
    dropped: list[str] = field(default_factory=list)  # every partition dropped
    kept: list[str] = field(default_factory=list)  # past retention but still needed


async def _still_needed(conn: asyncpg.Connection, name: str) -> bool:
    """Unsettled wins, or draws of a campaign that is not over."""
    return bool(await conn.fetchval(
        f"""SELECT EXISTS (SELECT 1 FROM {name} WHERE outcome = 'win' AND settled_at IS NULL)
               OR EXISTS (SELECT 1 FROM campaigns c WHERE c.status <> 'ended'
                          AND EXISTS (SELECT 1 FROM {name} d WHERE d.campaign_id = c.id))"""))


def archive_path(settings: Settings, name: str) -> Path:
    return settings.data_dir / "archive" / "draws" / f"{name}.csv"


async def _archive(conn: asyncpg.Connection, settings: Settings, name: str) -> int:
    """Write the partition to its CSV (header first); returns the rows written. Written to
    a side file first, so a CSV under the final name is always whole (a second run writes
    it again, whole)."""
    path = archive_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    status = await conn.copy_from_table(name, output=partial, format="csv", header=True)
    partial.replace(path)
    return int(status.split()[-1])


async def _retire(conn: asyncpg.Connection, settings: Settings, name: str) -> bool:
    """Archive (with ``csv``) and drop one partition past retention; False when it is still
    needed (it is kept, for the next run to look at)."""
    if await _still_needed(conn, name):
        return False
    # From here the month cannot change: its wins are settled and its campaigns ended (an
    # ended campaign never draws again), so its CSV and its claims can go before the lock.
    archived = False
    if settings.draws_archive == "csv":
        await _archive(conn, settings, name)
        archived = True
    async with conn.transaction():
        await conn.execute(
            f"""DELETE FROM draw_win_seqs w USING {name} d
                WHERE d.win_seq IS NOT NULL AND w.prize_id = d.prize_id
                  AND w.win_seq = d.win_seq AND w.draw_id = d.id""")
        await conn.execute(
            f"""DELETE FROM draw_idempotency_keys k USING {name} d
                WHERE d.idempotency_key IS NOT NULL AND k.campaign_id = d.campaign_id
                  AND k.member_id = d.member_id AND k.idempotency_key = d.idempotency_key
                  AND k.draw_id = d.id""")
    async with conn.transaction():
        await _lock(conn)
        # The parent first, as DETACH takes it: draws wait for these few statements.
        await conn.execute("LOCK TABLE draws IN ACCESS EXCLUSIVE MODE")
        if await _still_needed(conn, name):
            return False
        await conn.execute(f"ALTER TABLE draws DETACH PARTITION {name}")
        await conn.execute(f"DROP TABLE {name}")
    log.info("draws: partition %s %s", name, "archived and dropped" if archived else "dropped")
    return True


async def apply_retention(conn: asyncpg.Connection, settings: Settings,
                          now: datetime) -> Retention:
    """Retire every month older than ``draws_retention_months`` whole months (none when it
    is unset)."""
    result = Retention()
    months = settings.draws_retention_months
    if months is None:
        return result
    cutoff = add_months(month_of(now), -months)
    for name, month in (await partitions(conn)).items():
        if add_months(month, 1) > cutoff:
            continue
        if await _retire(conn, settings, name):
            result.dropped.append(name)
            if settings.draws_archive == "csv":
                result.archived.append(name)
        else:
            log.warning("draws: partition %s is past retention but kept: it holds unsettled "
                        "wins or draws of a campaign that has not ended", name)
            result.kept.append(name)
    return result


async def maintain(pool: asyncpg.Pool, settings: Settings, now: datetime) -> dict[str, object]:
    """All of the above, in order: what the cron games.maintain_draw_partitions runs. A run
    finding another one under way leaves it the work (``busy``)."""
    async with pool.acquire() as proxy:
        conn = cast(asyncpg.Connection, proxy)
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RUN_KEY):
            return {"busy": True}
        try:
            created = await ensure_ahead(conn, now)
            swept = await sweep_default(conn)
            purged = await purge_key_claims(conn, now - timedelta(days=KEY_CLAIM_DAYS))
            retention = await apply_retention(conn, settings, now)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _RUN_KEY)
    return {"busy": False, "created": created + swept, "key_claims_purged": purged,
            "archived": retention.archived, "dropped": retention.dropped,
            "kept": retention.kept}
