from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

import asyncpg

Conn = asyncpg.Connection | asyncpg.Pool

_ENTRY = """id, order_id, beneficiary_id, buyer_id, level, kind, amount, rate_bp, status,
    held_by, available_at, created_at"""
# Joins an entry (e) to the accrual (a) it belongs to: reversals and clawbacks count where
# their accrual stands.
_ACCRUAL_OF = """JOIN commission_entries a
     ON a.merchant_id = e.merchant_id AND a.order_id = e.order_id
    AND a.beneficiary_id = e.beneficiary_id AND a.level = e.level AND a.cause = 'order'"""


# Entries: accrue, reverse, release, read

async def record_first_order(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                             order_id: str) -> str:
    """The member's first order id: this one, unless another got there first."""
    await conn.execute(
        """INSERT INTO referral_first_orders (member_id, merchant_id, order_id)
           VALUES ($1, $2, $3) ON CONFLICT (member_id) DO NOTHING""",
        member_id, merchant_id, order_id,
    )
    first: str = await conn.fetchval(
        "SELECT order_id FROM referral_first_orders WHERE member_id = $1", member_id)
    return first


async def has_accruals(conn: asyncpg.Connection, merchant_id: str, order_id: str) -> bool:
    return bool(await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM commission_entries
                          WHERE merchant_id = $1 AND order_id = $2 AND cause = 'order')""",
        merchant_id, order_id,
    ))


async def count_paid_referral(conn: asyncpg.Connection, beneficiary_id: str, day: date,
                              cap: int) -> bool:
    """Count one more commission-earning order for the day; False when the cap is reached.
    One upsert: concurrent orders cannot both take the last place."""
    row = await conn.fetchrow(
        """INSERT INTO referral_daily_counts AS c (beneficiary_id, day, paid) VALUES ($1, $2, 1)
           ON CONFLICT (beneficiary_id, day) DO UPDATE SET paid = c.paid + 1
           WHERE c.paid < $3
           RETURNING paid""",
        beneficiary_id, day, cap,
    )
    return row is not None


class EntryRow(NamedTuple):
    """One commission entry to append, in the column order of insert_entries."""

    id: str
    merchant_id: str
    order_id: str
    beneficiary_id: str
    buyer_id: str
    level: int
    kind: str  # accrual | reversal | clawback
    cause: str  # 'order' or 'refund:<id>'
    refund_id: str | None
    amount: int  # cents, negative for a reversal or clawback
    rate_bp: int
    status: str
    held_by: str | None
    available_at: datetime | None
    created_at: datetime


async def insert_entries(conn: asyncpg.Connection, rows: list[EntryRow]) -> int:
    """Append entries; one already there (same order, beneficiary, level, cause) is skipped."""
    if not rows:
        return 0
    inserted = await conn.fetch(
        """INSERT INTO commission_entries (id, merchant_id, order_id, beneficiary_id, buyer_id,
               level, kind, cause, refund_id, amount, rate_bp, status, held_by, available_at,
               created_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::smallint[], $7::text[], $8::text[], $9::text[],
                                $10::bigint[], $11::integer[], $12::text[], $13::text[],
                                $14::timestamptz[], $15::timestamptz[])
           ON CONFLICT ON CONSTRAINT commission_entries_once DO NOTHING
           RETURNING id""",
        *[list(col) for col in zip(*rows, strict=True)],
    )
    return len(inserted)


async def accruals_of_order(conn: asyncpg.Connection, merchant_id: str,
                            order_id: str) -> list[asyncpg.Record]:
    """Locked: a refund and the release job agree on whether an accrual is still pending."""
    return await conn.fetch(
        f"""SELECT {_ENTRY} FROM commission_entries
            WHERE merchant_id = $1 AND order_id = $2 AND kind = 'accrual'
            ORDER BY beneficiary_id, level FOR UPDATE""",
        merchant_id, order_id,
    )


async def release_due(conn: asyncpg.Connection, now: datetime, batch: int) -> int:
    status = await conn.execute(
        """UPDATE commission_entries SET status = 'available', released_at = $1
           WHERE id IN (SELECT id FROM commission_entries
                        WHERE status = 'pending' AND available_at <= $1
                        ORDER BY available_at LIMIT $2 FOR UPDATE SKIP LOCKED)""",
        now, batch,
    )
    return int(status.split()[-1])


async def held_accruals(conn: asyncpg.Connection, merchant_id: str,
                        held_by: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_ENTRY} FROM commission_entries
            WHERE merchant_id = $1 AND held_by = $2 AND status = 'held'
            ORDER BY id FOR UPDATE""",
        merchant_id, held_by,
    )


async def set_accrual_status(conn: asyncpg.Connection, entry_id: str, status: str,
                             held_by: str | None) -> None:
    await conn.execute(
        "UPDATE commission_entries SET status = $2, held_by = $3 WHERE id = $1",
        entry_id, status, held_by,
    )


async def balance(conn: Conn, beneficiary_id: str) -> asyncpg.Record:
    """Sums of entries. A reversal or clawback counts where its accrual stands now (pending
    before the release, available after); entries of rejected accruals count nowhere.
    Withdrawals requested or paid (commission_withdrawals) come out of available."""
    row = await conn.fetchrow(
        """WITH w AS (
               SELECT coalesce(sum(amount) FILTER (WHERE status = 'requested'), 0) AS requested,
                      coalesce(sum(amount) FILTER (WHERE status = 'paid'), 0) AS paid
               FROM commission_withdrawals WHERE member_id = $1),
           c AS (
               SELECT coalesce(sum(e.amount) FILTER (WHERE a.status = 'pending'), 0) AS pending,
                      coalesce(sum(e.amount) FILTER (WHERE a.status = 'available'), 0)
                          AS released,
                      coalesce(sum(e.amount) FILTER (WHERE a.status = 'held'), 0) AS held,
                      coalesce(-sum(e.amount) FILTER (WHERE e.kind <> 'accrual'
                                                      AND a.status <> 'rejected'), 0)
                          AS reversed
               FROM commission_entries e
               JOIN commission_entries a
                 ON a.merchant_id = e.merchant_id AND a.order_id = e.order_id
                AND a.beneficiary_id = e.beneficiary_id AND a.level = e.level
                AND a.cause = 'order'
               WHERE e.beneficiary_id = $1)
           SELECT c.pending, c.released - w.requested - w.paid AS available, c.held,
                  c.reversed, w.requested, w.paid
           FROM c, w""",
        beneficiary_id,
    )
    assert row is not None
    return row


async def entries_of_member(conn: Conn, beneficiary_id: str, before: str | None,
                            limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_ENTRY} FROM commission_entries
            WHERE beneficiary_id = $1 AND ($2::text IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3""",
        beneficiary_id, before, limit,
    )


# The merchant console

async def top_referrers(conn: Conn, merchant_id: str, limit: int) -> list[asyncpg.Record]:
    """Members with the most direct invitees, with their net commission (entries of
    rejected accruals count nowhere, as in ``balance``)."""
    return await conn.fetch(
        f"""SELECT r.id, r.name, r.phone, r.external_id, r.created_at,
                   count(*) AS invitees, coalesce(c.net, 0) AS commission
            FROM members m JOIN members r ON r.id = m.referrer_id
            LEFT JOIN LATERAL (
                SELECT sum(e.amount) AS net FROM commission_entries e {_ACCRUAL_OF}
                WHERE e.beneficiary_id = r.id AND a.status <> 'rejected') c ON true
            WHERE m.merchant_id = $1 AND m.referrer_id IS NOT NULL
            GROUP BY r.id, r.name, r.phone, r.external_id, r.created_at, c.net
            ORDER BY invitees DESC, r.id LIMIT $2""",
        merchant_id, limit,
    )


async def merchant_commission_totals(conn: Conn, merchant_id: str) -> asyncpg.Record:
    """A merchant's commission by status, summed as ``balance`` sums one member's
    (withdrawals requested or paid come out of available)."""
    row = await conn.fetchrow(
        f"""WITH w AS (
                SELECT coalesce(sum(amount) FILTER (WHERE status = 'requested'), 0)
                           AS requested,
                       coalesce(sum(amount) FILTER (WHERE status = 'paid'), 0) AS paid
                FROM commission_withdrawals WHERE merchant_id = $1)
            SELECT coalesce(sum(e.amount) FILTER (WHERE a.status = 'held'), 0) AS held,
                   coalesce(sum(e.amount) FILTER (WHERE a.status = 'pending'), 0) AS pending,
                   coalesce(sum(e.amount) FILTER (WHERE a.status = 'available'), 0)
                       - min(w.requested) - min(w.paid) AS available,
                   coalesce(-sum(e.amount) FILTER (WHERE e.kind <> 'accrual'
                                                   AND a.status <> 'rejected'), 0) AS reversed,
                   coalesce(sum(e.amount) FILTER (WHERE e.kind = 'accrual'
                                                  AND a.status = 'rejected'), 0) AS rejected,
                   min(w.requested) AS requested, min(w.paid) AS paid
            FROM w LEFT JOIN (commission_entries e {_ACCRUAL_OF}) ON e.merchant_id = $1
            """,
        merchant_id,
    )
    assert row is not None
    return row


async def commissions_for_export(conn: Conn, merchant_id: str, after: str | None,
                                 limit: int, store_id: str | None = None) -> list[asyncpg.Record]:
    """One batch of a merchant's ledger in id order after ``after`` (keyset); with
    ``store_id``, the entries of orders taken at that store."""
    return await conn.fetch(
        """SELECT e.id, e.created_at, e.order_id, e.beneficiary_id,
                  b.external_id AS beneficiary_external_id, b.phone AS beneficiary_phone,
                  e.buyer_id, e.level, e.kind, e.amount, e.rate_bp, e.status,
                  e.available_at, e.released_at, s.name AS store_name
           FROM commission_entries e JOIN members b ON b.id = e.beneficiary_id
           LEFT JOIN orders o ON o.merchant_id = e.merchant_id AND o.id = e.order_id
           LEFT JOIN stores s ON s.merchant_id = o.merchant_id AND s.id = o.store_id
           WHERE e.merchant_id = $1 AND ($2::text IS NULL OR e.id > $2)
             AND ($4::text IS NULL OR o.store_id = $4)
           ORDER BY e.id LIMIT $3""",
        merchant_id, after, limit, store_id,
    )
