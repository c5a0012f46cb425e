from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

_SEND = """id, name, coupon_template_id, segment, holdout_percent, repeat, status, error,
           targeted, held_out, issued, scheduled_at, created_at, started_at, finished_at"""


async def insert_send(conn: asyncpg.Connection, *, id: str, merchant_id: str, name: str,
                      template_id: str, segment: dict[str, Any], holdout_percent: int,
                      repeat: str | None, status: str, now: datetime,
                      parent_id: str | None = None, run_date: date | None = None,
                      scheduled_at: datetime | None = None) -> bool:
    """False when the run (parent_id, run_date) exists already."""
    inserted = await conn.fetchval(
        """INSERT INTO sends (id, merchant_id, name, coupon_template_id, segment,
                              holdout_percent, repeat, status, created_at, parent_id, run_date,
                              scheduled_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT ON CONSTRAINT sends_run_once DO NOTHING RETURNING true""",
        id, merchant_id, name, template_id, segment, holdout_percent, repeat, status, now,
        parent_id, run_date, scheduled_at,
    )
    return bool(inserted)


async def send_by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                     send_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_SEND} FROM sends WHERE merchant_id = $1 AND id = $2", merchant_id, send_id)
    return row


async def lock_send(conn: asyncpg.Connection, send_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT s.*, m.time_zone FROM sends s JOIN merchants m ON m.id = s.merchant_id
           WHERE s.id = $1 FOR UPDATE OF s""", send_id)
    return row


def _segment_sql(merchant_id: str, segment: dict[str, Any], now: datetime,
                 birthdays: list[str] | None) -> tuple[str, list[Any]]:
    args: list[Any] = [merchant_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    conds = ["m.merchant_id = $1"]
    if segment.get("min_orders") is not None:
        days = segment.get("orders_within_days")
        since = now - timedelta(days=days) if days else None
        since_arg = arg(since)
        conds.append(f"""(SELECT count(*) FROM orders o WHERE o.member_id = m.id
                           AND ({since_arg}::timestamptz IS NULL OR o.created_at > {since_arg}))
                         >= {arg(segment['min_orders'])}""")
    if segment.get("inactive_days") is not None:
        quiet_since = arg(now - timedelta(days=segment["inactive_days"]))
        conds.append(f"""NOT EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.id
                         AND o.created_at > {quiet_since})""")
    if birthdays is not None:
        conds.append(f"to_char(m.birthday, 'MM-DD') = ANY({arg(birthdays)}::text[])")
    if segment.get("tier") is not None:
        conds.append(f"m.tier = {arg(segment['tier'])}")
    if segment.get("holding_unredeemed") is not None:
        holding = f"""EXISTS (SELECT 1 FROM coupons c WHERE c.member_id = m.id
                      AND c.status = 'issued' AND (c.expires_at IS NULL
                                                   OR c.expires_at > {arg(now)}))"""
        conds.append(holding if segment["holding_unredeemed"] else f"NOT {holding}")
    return " AND ".join(conds), args


@dataclass(frozen=True)
class BirthdayClaim:
    """A once-a-year birthday send's claim: under ``parent_id`` (the daily definition),
    each birthday 'MM-DD' it matches stands for the birthday of ``years[mmdd]``."""

    parent_id: str
    years: dict[str, int]


async def count_audience(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         segment: dict[str, Any], now: datetime,
                         birthdays: list[str] | None) -> int:
    """How many members the segment matches now: the WHERE of fill_targets, counted."""
    where, args = _segment_sql(merchant_id, segment, now, birthdays)
    return int(await conn.fetchval(f"SELECT count(*) FROM members m WHERE {where}", *args))


# One statement writes every target of a send: for a merchant with hundreds of thousands of
# members on a small box it may need longer than the pool's 30 s bound for API statements.
FILL_TIMEOUT = 300.0


async def fill_targets(conn: asyncpg.Connection, send_id: str, merchant_id: str,
                       segment: dict[str, Any], holdout_percent: int, now: datetime,
                       birthdays: list[str] | None,
                       claim: BirthdayClaim | None = None) -> tuple[int, int]:
    """Write the send's targets in one statement: a random order, the first
    round(targeted * holdout_percent / 100) of it held out. Returns (targeted, held out).
    With a claim, only the members this statement claims for their birthday's year are
    targets; one claimed by another run (committed or not) waits for it and is skipped."""
    where, args = _segment_sql(merchant_id, segment, now, birthdays)
    n = len(args)
    if claim is None:
        ctes, extra = f"chosen AS (SELECT m.id AS member_id FROM members m WHERE {where})", []
    else:
        # (A data-modifying CTE must be at the top level: claimed, then chosen from it.)
        ctes = f"""claimed AS (
              INSERT INTO send_birthday_claims (parent_id, member_id, year, send_id, created_at)
              SELECT ${n + 3}, m.id, y.year, ${n + 1}, ${n + 6} FROM members m
              JOIN unnest(${n + 4}::text[], ${n + 5}::int[]) AS y(mmdd, year)
                ON y.mmdd = to_char(m.birthday, 'MM-DD')
              WHERE {where}
              ON CONFLICT DO NOTHING RETURNING member_id),
            chosen AS (SELECT member_id FROM claimed)"""
        extra = [claim.parent_id, list(claim.years), list(claim.years.values()), now]
    await conn.execute(
        f"""WITH {ctes}
            INSERT INTO send_members (send_id, member_id, held_out)
            SELECT ${n + 1}, member_id, rn <= round(total * ${n + 2}::numeric / 100) FROM (
              SELECT member_id, row_number() OVER (ORDER BY random()) AS rn,
                     count(*) OVER () AS total
              FROM chosen) t""",
        *args, send_id, holdout_percent, *extra, timeout=FILL_TIMEOUT,
    )
    row = await conn.fetchrow(
        """SELECT count(*) AS targeted, count(*) FILTER (WHERE held_out) AS held_out
           FROM send_members WHERE send_id = $1""", send_id)
    assert row is not None
    return int(row["targeted"]), int(row["held_out"])


async def start(conn: asyncpg.Connection, send_id: str, targeted: int, held_out: int,
                now: datetime) -> None:
    await conn.execute(
        """UPDATE sends SET status = 'running', targeted = $2, held_out = $3, started_at = $4
           WHERE id = $1""", send_id, targeted, held_out, now)


async def members_to_issue(conn: asyncpg.Connection, send_id: str, limit: int) -> list[str]:
    rows = await conn.fetch(
        """SELECT member_id FROM send_members
           WHERE send_id = $1 AND NOT held_out AND coupon_id IS NULL
           LIMIT $2 FOR UPDATE SKIP LOCKED""", send_id, limit)
    return [r["member_id"] for r in rows]


async def copy_coupons(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """One batch of a send's coupons, by COPY: the fastest way in; a code collision
    (2**-60 a pair) fails the whole batch as a UniqueViolationError."""
    await conn.copy_records_to_table(
        "coupons", records=rows,
        columns=["id", "merchant_id", "template_id", "member_id", "code", "source",
                 "valid_from", "expires_at", "issued_at"])


async def link_coupons(conn: asyncpg.Connection, send_id: str, member_ids: list[str],
                       coupon_ids: list[str]) -> None:
    await conn.execute(
        """UPDATE send_members s SET coupon_id = v.coupon_id
           FROM unnest($2::text[], $3::text[]) AS v(member_id, coupon_id)
           WHERE s.send_id = $1 AND s.member_id = v.member_id""",
        send_id, member_ids, coupon_ids)


async def finish(conn: asyncpg.Connection, send_id: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE sends SET status = 'done', finished_at = $2,
               issued = (SELECT count(*) FROM send_members
                         WHERE send_id = $1 AND coupon_id IS NOT NULL)
           WHERE id = $1""", send_id, now)


async def fail(conn: asyncpg.Connection, send_id: str, error: str, now: datetime) -> None:
    await conn.execute(
        """UPDATE sends SET status = 'failed', error = $2, finished_at = $3,
               issued = (SELECT count(*) FROM send_members
                         WHERE send_id = $1 AND coupon_id IS NOT NULL)
           WHERE id = $1""", send_id, error, now)


async def results(conn: asyncpg.Connection | asyncpg.Pool, send_id: str) -> asyncpg.Record:
    """Totals over the send and, for a daily definition, all of its runs. A member
    repurchased when it paid an order after its run started."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """WITH runs AS (SELECT id, started_at FROM sends
                         WHERE (id = $1 OR parent_id = $1) AND started_at IS NOT NULL),
                targets AS (
                  SELECT sm.held_out, sm.coupon_id,
                         EXISTS (SELECT 1 FROM orders o WHERE o.member_id = sm.member_id
                                 AND o.created_at >= r.started_at) AS came_back
                  FROM send_members sm JOIN runs r ON r.id = sm.send_id)
           SELECT count(*) AS targeted,
                  count(*) FILTER (WHERE held_out) AS held_out,
                  count(coupon_id) AS issued,
                  (SELECT count(*) FROM coupons c JOIN targets t ON c.id = t.coupon_id
                   WHERE c.status = 'redeemed') AS redeemed,
                  count(*) FILTER (WHERE NOT held_out AND came_back) AS treated_back,
                  count(*) FILTER (WHERE held_out AND came_back) AS holdout_back
           FROM targets""",
        send_id,
    )
    assert row is not None
    return row


async def daily_definitions(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT s.id, s.merchant_id, s.name, s.coupon_template_id, s.segment,
                  s.holdout_percent, m.time_zone
           FROM sends s JOIN merchants m ON m.id = s.merchant_id
           WHERE s.repeat = 'daily' AND s.status = 'scheduled' AND NOT s.paused
           ORDER BY s.id""")


async def release_due(conn: asyncpg.Connection, now: datetime) -> list[str]:
    """Scheduled one-off sends whose time has come, turned 'queued'. The UPDATE's row locks
    and its re-checked WHERE make each release happen once: a second worker's concurrent
    UPDATE waits on the row, then finds it no longer 'scheduled' and skips it."""
    rows = await conn.fetch(
        """UPDATE sends SET status = 'queued'
           WHERE status = 'scheduled' AND repeat IS NULL AND scheduled_at <= $1
           RETURNING id""", now)
    return [r["id"] for r in rows]


async def list_sends(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                     limit: int) -> list[asyncpg.Record]:
    """A merchant's sends, newest first; a daily definition's runs are counted in it."""
    return await conn.fetch(
        f"""SELECT {_SEND} FROM sends
            WHERE merchant_id = $1 AND parent_id IS NULL ORDER BY id DESC LIMIT $2""",
        merchant_id, limit)


async def pending_ids(conn: asyncpg.Connection | asyncpg.Pool) -> list[str]:
    rows = await conn.fetch(
        "SELECT id FROM sends WHERE status IN ('queued', 'running') ORDER BY id")
    return [r["id"] for r in rows]


async def lock_merchant(conn: asyncpg.Connection, merchant_id: str) -> None:
    """Serialises a merchant's birthday settings: two first saves make one definition."""
    await conn.execute("SELECT 1 FROM merchants WHERE id = $1 FOR UPDATE", merchant_id)


async def birthday_automation(conn: asyncpg.Connection | asyncpg.Pool,
                              merchant_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        """SELECT s.id AS send_id, s.coupon_template_id, s.segment, s.paused, b.updated_at
           FROM birthday_automations b JOIN sends s ON s.id = b.send_id
           WHERE b.merchant_id = $1""", merchant_id)
    return row


async def insert_birthday_automation(conn: asyncpg.Connection, merchant_id: str, send_id: str,
                                     now: datetime) -> None:
    await conn.execute(
        """INSERT INTO birthday_automations (merchant_id, send_id, updated_at)
           VALUES ($1, $2, $3)""", merchant_id, send_id, now)


async def update_birthday_automation(conn: asyncpg.Connection, merchant_id: str, *,
                                     template_id: str, segment: dict[str, Any], paused: bool,
                                     now: datetime) -> None:
    await conn.execute(
        """UPDATE sends s SET coupon_template_id = $2, segment = $3, paused = $4
           FROM birthday_automations b
           WHERE b.merchant_id = $1 AND s.id = b.send_id""",
        merchant_id, template_id, segment, paused)
    await conn.execute(
        "UPDATE birthday_automations SET updated_at = $2 WHERE merchant_id = $1",
        merchant_id, now)


async def set_paused(conn: asyncpg.Connection, send_id: str, paused: bool) -> None:
    await conn.execute("UPDATE sends SET paused = $2 WHERE id = $1", send_id, paused)
