from __future__ import annotations

from datetime import datetime

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool

_PROGRAM = """merchant_id, enabled, reward_coupon_template_id, share_template_ids,
    level_rates_bp, trigger, hold_days, max_paid_referrals_per_day, max_joins_per_ip_per_hour,
    min_withdrawal, updated_at"""
_LINK = "id, merchant_id, member_id, code, coupon_template_id, joins, created_at"


# Programs

async def program(conn: Conn, merchant_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_PROGRAM} FROM referral_programs WHERE merchant_id = $1", merchant_id)


async def upsert_program(conn: asyncpg.Connection, *, merchant_id: str, enabled: bool,
                         reward_template_id: str | None, share_template_ids: list[str],
                         level_rates_bp: list[int], trigger: str, hold_days: int,
                         max_paid_referrals_per_day: int | None,
                         max_joins_per_ip_per_hour: int | None, min_withdrawal: int,
                         now: datetime) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO referral_programs AS p (merchant_id, enabled, reward_coupon_template_id,
                share_template_ids, level_rates_bp, trigger, hold_days,
                max_paid_referrals_per_day, max_joins_per_ip_per_hour, min_withdrawal,
                updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (merchant_id) DO UPDATE SET
                enabled = EXCLUDED.enabled,
                reward_coupon_template_id = EXCLUDED.reward_coupon_template_id,
                share_template_ids = EXCLUDED.share_template_ids,
                level_rates_bp = EXCLUDED.level_rates_bp, trigger = EXCLUDED.trigger,
                hold_days = EXCLUDED.hold_days,
                max_paid_referrals_per_day = EXCLUDED.max_paid_referrals_per_day,
                max_joins_per_ip_per_hour = EXCLUDED.max_joins_per_ip_per_hour,
                min_withdrawal = EXCLUDED.min_withdrawal,
                updated_at = EXCLUDED.updated_at
            RETURNING {_PROGRAM}""",
        merchant_id, enabled, reward_template_id, share_template_ids, level_rates_bp, trigger,
        hold_days, max_paid_referrals_per_day, max_joins_per_ip_per_hour, min_withdrawal, now,
    )
    assert row is not None
    return row


# Share links

async def link_by_code(conn: Conn, code: str, *,
                       for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {_LINK} FROM share_links WHERE code = $1{lock}", code)


async def link_of_member(conn: Conn, member_id: str,
                         template_id: str | None) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {_LINK} FROM share_links
            WHERE member_id = $1 AND coalesce(coupon_template_id, '') = coalesce($2, '')""",
        member_id, template_id,
    )


async def insert_link(conn: asyncpg.Connection, *, id: str, merchant_id: str, member_id: str,
                      code: str, template_id: str | None,
                      now: datetime) -> asyncpg.Record | None:
    """None when the code is taken or the member already has this link."""
    return await conn.fetchrow(
        f"""INSERT INTO share_links (id, merchant_id, member_id, code, coupon_template_id,
                                     created_at)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING {_LINK}""",
        id, merchant_id, member_id, code, template_id, now,
    )


async def count_join(conn: asyncpg.Connection, link_id: str) -> None:
    await conn.execute("UPDATE share_links SET joins = joins + 1 WHERE id = $1", link_id)


# Bindings

async def member_for_binding(conn: asyncpg.Connection, merchant_id: str,
                             member_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, phone, name, referrer_id, created_at,
                  EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.id) AS has_orders,
                  EXISTS (SELECT 1 FROM referral_bindings b WHERE b.member_id = m.id)
                      AS has_binding
           FROM members m WHERE merchant_id = $1 AND id = $2 FOR UPDATE""",
        merchant_id, member_id,
    )


async def member_brief(conn: Conn, member_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, merchant_id, phone, name, created_at FROM members WHERE id = $1", member_id)


async def recent_joins(conn: asyncpg.Connection, link_id: str, ip: str, since: datetime) -> int:
    return int(await conn.fetchval(
        """SELECT count(*) FROM referral_bindings
           WHERE share_link_id = $1 AND ip = $2::text::inet AND created_at > $3""",
        link_id, ip, since,
    ))


async def set_referrer(conn: asyncpg.Connection, member_id: str, referrer_id: str) -> None:
    """The members_referral_forest trigger refuses a second binding or a younger referrer."""
    await conn.execute("UPDATE members SET referrer_id = $2 WHERE id = $1", member_id,
                       referrer_id)


async def insert_binding(conn: asyncpg.Connection, *, member_id: str, merchant_id: str,
                         referrer_id: str, link_id: str | None, ip: str | None, status: str,
                         hold_reason: str | None, coupon_code: str | None,
                         now: datetime) -> None:
    await conn.execute(
        """INSERT INTO referral_bindings (member_id, merchant_id, referrer_id, share_link_id, ip,
                                          status, hold_reason, coupon_code, created_at)
           VALUES ($1, $2, $3, $4, $5::text::inet, $6, $7, $8, $9)""",
        member_id, merchant_id, referrer_id, link_id, ip, status, hold_reason, coupon_code, now,
    )


_BINDING = """b.member_id, b.referrer_id, b.status, b.hold_reason, l.code AS share_code,
    b.coupon_code, b.created_at, b.reviewed_at"""


async def binding(conn: Conn, merchant_id: str, member_id: str, *,
                  for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE OF b" if for_update else ""
    return await conn.fetchrow(
        f"""SELECT {_BINDING} FROM referral_bindings b
            LEFT JOIN share_links l ON l.id = b.share_link_id
            WHERE b.merchant_id = $1 AND b.member_id = $2{lock}""",
        merchant_id, member_id,
    )


async def set_binding_status(conn: asyncpg.Connection, member_id: str, status: str,
                             now: datetime) -> None:
    await conn.execute(
        "UPDATE referral_bindings SET status = $2, reviewed_at = $3 WHERE member_id = $1",
        member_id, status, now,
    )


async def bindings(conn: Conn, merchant_id: str, status: str, before: str | None,
                   limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_BINDING} FROM referral_bindings b
            LEFT JOIN share_links l ON l.id = b.share_link_id
            WHERE b.merchant_id = $1 AND b.status = $2
              AND ($3::text IS NULL OR b.member_id < $3)
            ORDER BY b.member_id DESC LIMIT $4""",
        merchant_id, status, before, limit,
    )


async def invitees(conn: Conn, referrer_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT m.name, m.phone, m.created_at, coalesce(b.status, 'active') AS status
           FROM members m LEFT JOIN referral_bindings b ON b.member_id = m.id
           WHERE m.referrer_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT $2""",
        referrer_id, limit,
    )


# The graph

async def upline(conn: asyncpg.Connection, buyer_id: str, depth: int) -> list[asyncpg.Record]:
    """The buyer's referrers, nearest first: level, the member the edge starts from ("via"),
    the beneficiary and its phone, and the edge's review status."""
    return await conn.fetch(
        """WITH RECURSIVE up (via, beneficiary_id, level) AS (
               SELECT id, referrer_id, 1 FROM members WHERE id = $1 AND referrer_id IS NOT NULL
               UNION ALL
               SELECT m.id, m.referrer_id, up.level + 1
               FROM up JOIN members m ON m.id = up.beneficiary_id
               WHERE m.referrer_id IS NOT NULL AND up.level < $2
           )
           SELECT up.level, up.via, up.beneficiary_id, b.phone AS beneficiary_phone,
                  coalesce(rb.status, 'active') AS edge_status
           FROM up JOIN members b ON b.id = up.beneficiary_id
           LEFT JOIN referral_bindings rb ON rb.member_id = up.via
           ORDER BY up.level""",
        buyer_id, depth,
    )


async def downline(conn: Conn, merchant_id: str, member_id: str, depth: int,
                   limit: int) -> list[asyncpg.Record]:
    """A member's invitees, their invitees and so on down to ``depth`` levels."""
    return await conn.fetch(
        """WITH RECURSIVE down (id, level) AS (
               SELECT id, 1 FROM members WHERE merchant_id = $1 AND referrer_id = $2
               UNION ALL
               SELECT m.id, d.level + 1 FROM down d JOIN members m ON m.referrer_id = d.id
               WHERE d.level < $3
           )
           SELECT d.level, m.id, m.name, m.phone, m.external_id, m.created_at, m.referrer_id,
                  coalesce(b.status, 'active') AS status
           FROM down d JOIN members m ON m.id = d.id
           LEFT JOIN referral_bindings b ON b.member_id = m.id
           ORDER BY d.level, m.created_at DESC, m.id DESC LIMIT $4""",
        merchant_id, member_id, depth, limit,
    )


# The merchant console

async def referral_counts(conn: Conn, merchant_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM members
                   WHERE merchant_id = $1 AND referrer_id IS NOT NULL) AS referred,
                  (SELECT count(*) FROM referral_bindings
                   WHERE merchant_id = $1 AND status = 'held') AS held,
                  (SELECT count(*) FROM share_links WHERE merchant_id = $1) AS links""",
        merchant_id,
    )
    assert row is not None
    return row


async def held_for_review(conn: Conn, merchant_id: str, limit: int) -> list[asyncpg.Record]:
    """Held bindings, oldest first, with who joined, under whom, and how many joined through
    the same link from the same address within the hour before."""
    return await conn.fetch(
        """SELECT b.member_id, b.referrer_id, b.hold_reason, b.created_at, host(b.ip) AS ip,
                  l.code AS share_code,
                  m.name AS member_name, m.phone AS member_phone,
                  m.external_id AS member_external_id,
                  r.name AS referrer_name, r.phone AS referrer_phone,
                  r.external_id AS referrer_external_id,
                  (SELECT count(*) FROM referral_bindings o
                   WHERE o.share_link_id = b.share_link_id AND o.ip = b.ip
                     AND o.created_at > b.created_at - interval '1 hour'
                     AND o.created_at <= b.created_at) AS joins_in_hour
           FROM referral_bindings b
           JOIN members m ON m.id = b.member_id
           JOIN members r ON r.id = b.referrer_id
           LEFT JOIN share_links l ON l.id = b.share_link_id
           WHERE b.merchant_id = $1 AND b.status = 'held'
           ORDER BY b.created_at, b.member_id LIMIT $2""",
        merchant_id, limit,
    )
