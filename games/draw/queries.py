"""SQL of the draw engine: campaigns and prizes as draws read them, the draws table,
settlement of wins, and the reads of members' draws."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg

_CAMPAIGN = """id, merchant_id, name, game, status, starts_at, ends_at, per_member_per_day,
    per_member_total, entry_cost_points, rules, created_at, published_at, ended_at,
    chance_per_order, chance_per_check_in, chance_per_invite, pity_after, pity_prize_id,
    commitment"""
_PRIZE = """id, campaign_id, position, name, kind, coupon_template_id, points, quantity, weight,
    reserved, released, settled, redeemed"""


def _since(campaign: str) -> str:
    """A lower bound of a campaign's draws' created_at, for the planner to skip the monthly
    partitions before it (migration 0028): a campaign is drawn only once published (a draft
    cannot be), so no draw of it is older than its published_at. A day of slack covers
    processes whose clocks disagree; a campaign never published has no bound (and no
    draws). ``campaign`` is the SQL parameter holding its id."""
    return (f"coalesce((SELECT published_at FROM campaigns WHERE id = {campaign}) "
            f"- interval '1 day', '-infinity')")


async def campaign(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, campaign_id: str,
                   *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_CAMPAIGN} FROM campaigns WHERE merchant_id = $1 AND id = $2{lock}",
        merchant_id, campaign_id,
    )


async def campaign_by_id(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                         *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {_CAMPAIGN} FROM campaigns WHERE id = $1{lock}",
                               campaign_id)


async def prizes(conn: asyncpg.Connection | asyncpg.Pool,
                 campaign_id: str) -> list[asyncpg.Record]:
    """A campaign's prizes in order, with their coupon template's per-member limit."""
    return await conn.fetch(
        f"""SELECT {_PRIZE}, (SELECT t.per_member_limit FROM coupon_templates t
                              WHERE t.id = coupon_template_id) AS per_member_limit
            FROM campaign_prizes WHERE campaign_id = $1 ORDER BY position""",
        campaign_id,
    )


async def set_reserved(conn: asyncpg.Connection, prize_id: str, reserved: int) -> None:
    await conn.execute("UPDATE campaign_prizes SET reserved = $2 WHERE id = $1",
                       prize_id, reserved)


async def mark_released(conn: asyncpg.Connection, prize_id: str) -> None:
    await conn.execute("UPDATE campaign_prizes SET released = true WHERE id = $1", prize_id)


async def win_counts(conn: asyncpg.Connection | asyncpg.Pool,
                     campaign_id: str) -> dict[str, int]:
    rows = await conn.fetch(
        f"""SELECT prize_id, count(*) AS n FROM draws
            WHERE campaign_id = $1 AND created_at >= {_since("$1")} AND outcome = 'win'
            GROUP BY prize_id""",
        campaign_id,
    )
    return {r["prize_id"]: r["n"] for r in rows}


async def draw_totals(conn: asyncpg.Connection | asyncpg.Pool,
                      campaign_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""SELECT count(*) AS draws, count(DISTINCT member_id) AS players
            FROM draws WHERE campaign_id = $1 AND created_at >= {_since("$1")}""",
        campaign_id,
    )
    assert row is not None
    return row


async def member_draw_counts(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                             days: list[date]) -> list[asyncpg.Record]:
    # A local day lies within a day of the same UTC date on either side (offsets run from
    # -12 to +14 hours): bounds on created_at that the partitions are pruned by.
    since = datetime.combine(min(days), time(), UTC) - timedelta(days=1)
    until = datetime.combine(max(days), time(), UTC) + timedelta(days=2)
    return await conn.fetch(
        """SELECT member_id, local_day, count(*) AS n FROM draws
           WHERE campaign_id = $1 AND local_day = ANY($2)
             AND created_at >= $3 AND created_at < $4
           GROUP BY member_id, local_day""",
        campaign_id, days, since, until,
    )


async def member_total_counts(conn: asyncpg.Connection | asyncpg.Pool,
                              campaign_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT member_id, count(*) AS n FROM draws
            WHERE campaign_id = $1 AND created_at >= {_since("$1")} GROUP BY member_id""",
        campaign_id,
    )


async def lock_unsettled_wins(conn: asyncpg.Connection, campaign_id: str,
                              limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT d.id, d.merchant_id, d.member_id, d.prize_id, d.campaign_id, d.created_at,
                  p.kind,
                  p.coupon_template_id, p.points, p.quantity, t.valid_days
           FROM draws d
           JOIN campaign_prizes p ON p.id = d.prize_id
           LEFT JOIN coupon_templates t ON t.id = p.coupon_template_id
           WHERE d.campaign_id = $1 AND d.created_at >= {_since("$1")}
             AND d.outcome = 'win' AND d.settled_at IS NULL
           ORDER BY d.id LIMIT $2
           FOR UPDATE OF d SKIP LOCKED""",
        campaign_id, limit,
    )


async def unsettled_wins(pool: asyncpg.Pool) -> int:
    """Wins not settled yet, all campaigns: the predicate of the partial index of unsettled
    wins (draws_unsettled_idx), so a big table of settled draws is not read. Every monthly
    partition's index is looked at (there is no bound on when a win was drawn); a settled
    month's is empty, one page."""
    n: int = await pool.fetchval(
        "SELECT count(*) FROM draws WHERE outcome = 'win' AND settled_at IS NULL")
    return n


async def mark_settled(conn: asyncpg.Connection, draws: list[tuple[str, datetime]],
                       now: datetime) -> None:
    """Settle the draws (id, created_at): their created_at range keeps the update to the
    partitions holding them."""
    await conn.execute(
        """UPDATE draws SET settled_at = $2
           WHERE id = ANY($1) AND created_at >= $3 AND created_at <= $4""",
        [d[0] for d in draws], now, min(d[1] for d in draws), max(d[1] for d in draws))


async def add_settled(conn: asyncpg.Connection, counts: dict[str, int]) -> None:
    """Settled wins stop being held in the prize's reservation (they are issued now)."""
    for prize_id in sorted(counts):
        await conn.execute(
            """UPDATE campaign_prizes SET settled = settled + $2,
                 reserved = reserved - CASE WHEN kind = 'coupon' AND quantity IS NOT NULL
                                            THEN $2 ELSE 0 END
               WHERE id = $1""",
            prize_id, counts[prize_id])


async def unsettled_count(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str) -> int:
    # Counts only the backlog, through the partial index on unsettled wins.
    return int(await conn.fetchval(
        f"""SELECT count(*) FROM draws
            WHERE campaign_id = $1 AND created_at >= {_since("$1")}
              AND outcome = 'win' AND settled_at IS NULL""",
        campaign_id,
    ))


async def campaigns_with_stale_wins(conn: asyncpg.Connection | asyncpg.Pool,
                                    before: datetime) -> list[str]:
    rows = await conn.fetch(
        """SELECT DISTINCT campaign_id FROM draws
           WHERE outcome = 'win' AND settled_at IS NULL AND created_at < $1""",
        before,
    )
    return [r["campaign_id"] for r in rows]


async def draws_of_member(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                          before_id: str | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, response FROM draws
           WHERE member_id = $1 AND ($2::text IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        member_id, before_id, limit,
    )


async def insert_draws(conn: asyncpg.Connection | asyncpg.Pool,
                       rows: list[tuple[Any, ...]]) -> set[str]:
    """Insert many draws in one statement (one commit for all). A win is inserted only while
    its sequence number is within the prize's quantity and not taken (PostgreSQL's own guard
    against oversell), and no draw is inserted under an Idempotency-Key already drawn; returns
    the ids inserted, so refused rows can be told apart."""
    inserted = await conn.fetch(
        """INSERT INTO draws (id, merchant_id, campaign_id, member_id, prize_id, outcome,
                              win_seq, local_day, points_spent, idempotency_key, request_hash,
                              response, created_at)
           SELECT u.id, u.merchant_id, u.campaign_id, u.member_id, u.prize_id, u.outcome,
                  u.win_seq, u.local_day, u.points_spent, u.idempotency_key, u.request_hash,
                  u.response::jsonb, u.created_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::integer[], $8::date[], $9::integer[], $10::text[], $11::text[],
                       $12::text[], $13::timestamptz[])
                AS u(id, merchant_id, campaign_id, member_id, prize_id, outcome, win_seq,
                     local_day, points_spent, idempotency_key, request_hash, response,
                     created_at)
           WHERE u.win_seq IS NULL OR EXISTS (
               SELECT 1 FROM campaign_prizes p
               WHERE p.id = u.prize_id AND (p.quantity IS NULL OR p.quantity >= u.win_seq))
           ON CONFLICT DO NOTHING
           RETURNING id""",
        *[list(col) for col in zip(*rows, strict=True)],
    )
    return {r["id"] for r in inserted}


async def draw_by_idempotency_key(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                                  member_id: str, key: str) -> asyncpg.Record | None:
    """The draw holding the key's claim (draw_idempotency_keys, migration 0028): its
    created_at leads to the one partition holding it."""
    return await conn.fetchrow(
        """SELECT d.response::text AS response, d.request_hash
           FROM draw_idempotency_keys k
           JOIN draws d ON d.id = k.draw_id AND d.created_at = k.created_at
           WHERE k.campaign_id = $1 AND k.member_id = $2 AND k.idempotency_key = $3""",
        campaign_id, member_id, key,
    )


async def coupon_holdings(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                          member_id: str) -> list[asyncpg.Record]:
    """For each coupon template among a campaign's prizes that has a per-member limit: the
    limit and how many the member holds, counting wins of it not yet settled into coupons
    (in any campaign)."""
    return await conn.fetch(
        """SELECT t.id AS template_id, t.per_member_limit,
                  (SELECT count(*) FROM coupons c
                   WHERE c.member_id = $2 AND c.template_id = t.id)
                + (SELECT count(*) FROM draws d JOIN campaign_prizes p ON p.id = d.prize_id
                   WHERE d.member_id = $2 AND d.outcome = 'win' AND d.settled_at IS NULL
                     AND p.coupon_template_id = t.id) AS held
           FROM coupon_templates t
           WHERE t.per_member_limit IS NOT NULL
             AND t.id IN (SELECT coupon_template_id FROM campaign_prizes
                          WHERE campaign_id = $1 AND kind = 'coupon')""",
        campaign_id, member_id,
    )


async def member_draw_counts_for(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                                 member_id: str, day: date) -> asyncpg.Record:
    """A member's draws in one campaign, today and in total (durable draws only: a result is
    returned to the browser only once its row is committed)."""
    row = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE local_day = $3) AS today, count(*) AS total
            FROM draws
            WHERE member_id = $2 AND campaign_id = $1 AND created_at >= {_since("$1")}""",
        campaign_id, member_id, day,
    )
    assert row is not None
    return row


async def recent_draws_of_member(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                                 limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT d.id, d.campaign_id, c.name AS campaign_name, c.game, d.outcome,
                  d.response -> 'prize' ->> 'name' AS prize_name, d.created_at
           FROM draws d JOIN campaigns c ON c.id = d.campaign_id
           WHERE d.member_id = $1 ORDER BY d.id DESC LIMIT $2""",
        member_id, limit,
    )


async def draw_buckets(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                       id_floor: str, since: datetime, size_seconds: int,
                       origin: datetime) -> list[asyncpg.Record]:
    """Draws and wins per time bucket and prize since ``since``. ``id_floor`` bounds the
    read to an index range of (campaign_id, id); ids are time-ordered."""
    return await conn.fetch(
        """SELECT date_bin(make_interval(secs => $4), created_at, $5) AS bucket, prize_id,
                  count(*) AS draws, count(*) FILTER (WHERE outcome = 'win') AS wins
           FROM draws
           WHERE campaign_id = $1 AND id >= $2 AND created_at >= $3
           GROUP BY 1, 2""",
        campaign_id, id_floor, since, size_seconds, origin,
    )


async def draws_for_export(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                           after: str | None, limit: int) -> list[asyncpg.Record]:
    """One batch of a campaign's draws in id order after ``after`` (keyset)."""
    return await conn.fetch(
        f"""SELECT d.id, d.created_at, d.member_id, m.external_id, m.phone, d.outcome,
                  d.prize_id, p.name AS prize_name, p.kind AS prize_kind, d.points_spent,
                  d.settled_at
           FROM draws d
           JOIN members m ON m.id = d.member_id
           LEFT JOIN campaign_prizes p ON p.id = d.prize_id
           WHERE d.campaign_id = $1 AND d.created_at >= {_since("$1")}
             AND ($2::text IS NULL OR d.id > $2)
           ORDER BY d.id LIMIT $3""",
        campaign_id, after, limit,
    )


async def fairness_of(conn: asyncpg.Connection | asyncpg.Pool,
                      campaign_id: str) -> asyncpg.Record | None:
    """What the pick needs: the campaign's secret seed (null before publish), its status and
    its prizes' total weight."""
    return await conn.fetchrow(
        """SELECT c.status, c.server_seed, c.commitment, c.ends_at,
                  (SELECT coalesce(sum(weight), 0) FROM campaign_prizes p
                   WHERE p.campaign_id = c.id) AS total_weight
           FROM campaigns c WHERE c.id = $1""",
        campaign_id,
    )


async def commit_seed(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str, seed: bytes,
                      commitment: str) -> None:
    """Commit the campaign to a seed, unless it already is: a commitment never changes."""
    await conn.execute(
        """UPDATE campaigns SET server_seed = $2, commitment = $3
           WHERE id = $1 AND server_seed IS NULL""",
        campaign_id, seed, commitment,
    )


async def loses_since_last_win(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                               member_id: str) -> int:
    """The member's loses in a row, as PostgreSQL records them: the pity counter's value
    when Redis has none."""
    n = await conn.fetchval(
        f"""SELECT count(*) FROM draws
            WHERE campaign_id = $1 AND member_id = $2 AND created_at >= {_since("$1")}
              AND id > coalesce((SELECT max(id) FROM draws WHERE campaign_id = $1
                                 AND member_id = $2 AND created_at >= {_since("$1")}
                                 AND outcome = 'win'), '')""",
        campaign_id, member_id,
    )
    return int(n)


async def member_draws_of_campaign(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str,
                                   member_id: str, limit: int) -> list[asyncpg.Record]:
    """The member's draws of one campaign, oldest first (the order pity counts them in)."""
    return await conn.fetch(
        f"""SELECT id, response, created_at FROM draws
            WHERE campaign_id = $1 AND member_id = $2 AND created_at >= {_since("$1")}
            ORDER BY id LIMIT $3""",
        campaign_id, member_id, limit,
    )
