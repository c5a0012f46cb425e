"""The reconciliation's SQL: live campaigns and their recorded wins, the measurements and
repairs it keeps (0029_stock_reconciliation.sql), and what /metrics and the dashboard read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


async def live_campaigns(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT c.id, c.merchant_id, m.time_zone FROM campaigns c
           JOIN merchants m ON m.id = c.merchant_id
           WHERE c.status IN ('active', 'paused') ORDER BY c.id""")


async def recorded_wins(conn: asyncpg.Connection | asyncpg.Pool,
                        campaign_ids: list[str]) -> list[asyncpg.Record]:
    """Each prize (not 'nothing') of these campaigns with its quantity and the wins
    PostgreSQL holds: the prize's claimed win numbers (draw_win_seqs, one row beside each
    winning draw, written in its transaction by the draws_claim trigger, 0028), counted on
    that table's key rather than across every month of draws."""
    return await conn.fetch(
        """SELECT p.id, p.campaign_id, p.merchant_id, p.quantity,
                  (SELECT count(*) FROM draw_win_seqs w
                   WHERE w.prize_id = p.id)::integer AS wins
           FROM campaign_prizes p
           WHERE p.campaign_id = ANY($1::text[]) AND p.kind <> 'nothing'
           ORDER BY p.campaign_id, p.position""",
        campaign_ids)


@dataclass(frozen=True)
class Measurement:
    prize_id: str
    campaign_id: str
    merchant_id: str
    redis_wins: int
    recorded_wins: int


async def record_measurements(conn: asyncpg.Connection, rows: list[Measurement],
                              now: datetime) -> None:
    if not rows:
        return
    await conn.execute(
        """INSERT INTO stock_drift AS s (prize_id, campaign_id, merchant_id, redis_wins,
                                         recorded_wins, measured_at, drifting_since)
           SELECT u.prize_id, u.campaign_id, u.merchant_id, u.redis_wins, u.recorded_wins,
                  $6::timestamptz,
                  CASE WHEN u.redis_wins = u.recorded_wins THEN NULL ELSE $6::timestamptz END
           FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::integer[])
                AS u(prize_id, campaign_id, merchant_id, redis_wins, recorded_wins)
           ON CONFLICT (prize_id) DO UPDATE SET
               redis_wins = EXCLUDED.redis_wins, recorded_wins = EXCLUDED.recorded_wins,
               measured_at = EXCLUDED.measured_at,
               drifting_since = CASE WHEN EXCLUDED.redis_wins = EXCLUDED.recorded_wins
                                     THEN NULL
                                     ELSE coalesce(s.drifting_since, EXCLUDED.measured_at) END""",
        [r.prize_id for r in rows], [r.campaign_id for r in rows],
        [r.merchant_id for r in rows], [r.redis_wins for r in rows],
        [r.recorded_wins for r in rows], now)


async def forget_unless_live(conn: asyncpg.Connection, live_ids: list[str]) -> None:
    """Measurements of campaigns no longer live (ended, deleted) are not kept."""
    await conn.execute("DELETE FROM stock_drift WHERE NOT (campaign_id = ANY($1::text[]))",
                       live_ids)


@dataclass(frozen=True)
class Repair:
    campaign_id: str
    merchant_id: str
    prize_id: str | None
    kind: str  # 'reprimed', 'wins', 'quantity' (the table's CHECK)
    redis_value: int | None
    recorded: int | None


async def add_repairs(conn: asyncpg.Connection, rows: list[Repair], now: datetime) -> None:
    if not rows:
        return
    await conn.executemany(
        """INSERT INTO stock_repairs (campaign_id, merchant_id, prize_id, kind, redis_value,
                                      recorded, repaired_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(r.campaign_id, r.merchant_id, r.prize_id, r.kind, r.redis_value, r.recorded, now)
         for r in rows])


async def drift_series(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT campaign_id, prize_id, redis_wins - recorded_wins AS drift FROM stock_drift
           ORDER BY campaign_id, prize_id""")


async def flagged(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                  campaign_id: str) -> list[asyncpg.Record]:
    """The campaign's prizes whose Redis count was ahead of PostgreSQL's at the last run:
    drift the reconciliation does not repair."""
    return await conn.fetch(
        """SELECT s.prize_id, p.name, s.redis_wins, s.recorded_wins, s.drifting_since,
                  s.measured_at
           FROM stock_drift s JOIN campaign_prizes p ON p.id = s.prize_id
           WHERE s.merchant_id = $1 AND s.campaign_id = $2 AND s.redis_wins > s.recorded_wins
           ORDER BY p.position""",
        merchant_id, campaign_id)


async def recent_repairs(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         campaign_id: str, since: datetime, limit: int
                         ) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT r.kind, r.prize_id, p.name, r.redis_value, r.recorded, r.repaired_at
           FROM stock_repairs r LEFT JOIN campaign_prizes p ON p.id = r.prize_id
           WHERE r.merchant_id = $1 AND r.campaign_id = $2 AND r.repaired_at >= $3
           ORDER BY r.repaired_at DESC, r.id DESC LIMIT $4""",
        merchant_id, campaign_id, since, limit)
