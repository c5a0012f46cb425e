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
from games.partitions import queries

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
    found = {}
    for name in await queries.attached(conn):
        if match := _NAME.match(name):
            found[name] = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
    return dict(sorted(found.items()))


async def _lock(conn: asyncpg.Connection) -> None:
    await queries.lock_ddl(conn, _LOCK_KEY, LOCK_TIMEOUT)


async def ensure_month(conn: asyncpg.Connection, month: datetime) -> bool:
    """Create the month's partition unless it exists, moving in its rows from the default
    partition; True when it was created."""
    name, lo, hi = partition_name(month), _literal(month), _literal(add_months(month, 1))
    async with conn.transaction():
        await _lock(conn)
        if name in await partitions(conn):
            return False
        count = await queries.create_month(conn, name, DEFAULT_PARTITION,
                                           await queries.columns(conn), lo, hi)
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
    created = []
    for naive in await queries.months_in(conn, DEFAULT_PARTITION):
        month = naive.replace(tzinfo=UTC)
        if await ensure_month(conn, month):
            created.append(partition_name(month))
    return created


async def purge_key_claims(conn: asyncpg.Connection, before: datetime) -> int:
    """Forget claims of Idempotency-Keys drawn before ``before``, a batch at a time."""
    total = 0
    while True:
        n = await queries.purge_key_claims(conn, before, PURGE_BATCH)
        total += n
        if n < PURGE_BATCH:
            return total


@dataclass
class Retention:
    archived: list[str] = field(default_factory=list)  # written to CSV, then dropped
    dropped: list[str] = field(default_factory=list)  # every partition dropped
    kept: list[str] = field(default_factory=list)  # past retention but still needed


def archive_path(settings: Settings, name: str) -> Path:
    return settings.data_dir / "archive" / "draws" / f"{name}.csv"


async def _archive(conn: asyncpg.Connection, settings: Settings, name: str) -> int:
    """Write the partition to its CSV (header first); returns the rows written. Written to
    a side file first, so a CSV under the final name is always whole (a second run writes
    it again, whole)."""
    path = archive_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    written = await queries.copy_to_csv(conn, name, partial)
    partial.replace(path)
    return written


async def _retire(conn: asyncpg.Connection, settings: Settings, name: str) -> bool:
    """Archive (with ``csv``) and drop one partition past retention; False when it is still
    needed (it is kept, for the next run to look at)."""
    if await queries.still_needed(conn, name):
        return False
    # From here the month cannot change: its wins are settled and its campaigns ended (an
    # ended campaign never draws again), so its CSV and its claims can go before the lock.
    archived = False
    if settings.draws_archive == "csv":
        await _archive(conn, settings, name)
        archived = True
    async with conn.transaction():
        await queries.delete_claims(conn, name)
    async with conn.transaction():
        await _lock(conn)
        await queries.lock_draws(conn)
        if await queries.still_needed(conn, name):
            return False
        await queries.detach_and_drop(conn, name)
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
        if not await queries.try_run_lock(conn, _RUN_KEY):
            return {"busy": True}
        try:
            created = await ensure_ahead(conn, now)
            swept = await sweep_default(conn)
            purged = await purge_key_claims(conn, now - timedelta(days=KEY_CLAIM_DAYS))
            retention = await apply_retention(conn, settings, now)
        finally:
            await queries.run_unlock(conn, _RUN_KEY)
    return {"busy": False, "created": created + swept, "key_claims_purged": purged,
            "archived": retention.archived, "dropped": retention.dropped,
            "kept": retention.kept}
