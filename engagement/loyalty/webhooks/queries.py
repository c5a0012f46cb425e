from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg


async def insert_endpoint(conn: asyncpg.Connection, *, id: str, merchant_id: str, url: str,
                          events: list[str], secret: str, now: datetime) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        """INSERT INTO webhook_endpoints (id, merchant_id, url, events, secret, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, url, events, secret, created_at""",
        id, merchant_id, url, events, secret, now,
    )
    assert row is not None
    return row


async def endpoint_by_id(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                         endpoint_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2",
        merchant_id, endpoint_id)
    return row


async def subscribed_endpoints(conn: asyncpg.Connection, merchant_id: str,
                               event_type: str) -> list[str]:
    rows = await conn.fetch(
        """SELECT id FROM webhook_endpoints WHERE merchant_id = $1 AND $2 = ANY(events)
           ORDER BY id""", merchant_id, event_type)
    return [r["id"] for r in rows]


async def insert_deliveries(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await conn.executemany(
        """INSERT INTO webhook_deliveries (id, merchant_id, endpoint_id, type, payload,
                                           next_attempt_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6)""", rows)


async def claim_due(conn: asyncpg.Connection, now: datetime, lease_until: datetime,
                    limit: int) -> list[asyncpg.Record]:
    """Take due deliveries for this worker: unclaimed new ones at once (whatever clock
    stamped their event), others when their next attempt is due. A claim moves the next
    attempt to the lease's end, so a crashed worker's deliveries come due again and two
    workers never send one at the same time."""
    return await conn.fetch(
        """UPDATE webhook_deliveries d SET next_attempt_at = $2
           FROM webhook_endpoints e
           WHERE d.id IN (SELECT id FROM webhook_deliveries
                          WHERE status = 'pending'
                            AND (next_attempt_at <= $1
                                 OR (attempts = 0 AND next_attempt_at = created_at))
                          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
             AND e.id = d.endpoint_id
           RETURNING d.id, d.type, d.payload, d.attempts, d.created_at, e.url, e.secret""",
        now, lease_until, limit,
    )


async def record_attempt(conn: asyncpg.Connection, *, attempt_id: str, delivery_id: str,
                         attempt: int, status_code: int | None, error: str | None,
                         duration_ms: int, now: datetime, delivered: bool,
                         next_attempt_at: datetime | None) -> None:
    await conn.execute(
        """INSERT INTO webhook_attempts (id, delivery_id, attempt, status_code, error,
                                         duration_ms, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        attempt_id, delivery_id, attempt, status_code, error, duration_ms, now)
    await conn.execute(
        """UPDATE webhook_deliveries SET attempts = $2, last_status_code = $3, last_error = $4,
               status = CASE WHEN $5::boolean THEN 'delivered'
                             WHEN $6::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
               delivered_at = CASE WHEN $5::boolean THEN $7::timestamptz END,
               next_attempt_at = coalesce($6, next_attempt_at)
           WHERE id = $1 AND status = 'pending'""",
        delivery_id, attempt, status_code, error, delivered, next_attempt_at, now)


async def deliveries_of_endpoint(conn: asyncpg.Connection | asyncpg.Pool, endpoint_id: str,
                                 cursor: str | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, type, status, attempts,
                  CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at,
                  last_status_code, last_error, created_at, delivered_at
           FROM webhook_deliveries
           WHERE endpoint_id = $1 AND ($2::text IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        endpoint_id, cursor, limit,
    )


async def merchant_of_template(conn: asyncpg.Connection, template_id: str) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT merchant_id FROM coupon_templates WHERE id = $1", template_id)
    return value


async def endpoints_of_merchant(conn: asyncpg.Connection | asyncpg.Pool,
                                merchant_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT e.id, e.url, e.events, e.created_at,
                  (SELECT count(*) FROM webhook_deliveries d
                   WHERE d.endpoint_id = e.id AND d.status = 'failed') AS failed
           FROM webhook_endpoints e WHERE e.merchant_id = $1 ORDER BY e.id DESC""",
        merchant_id)


async def retry_failed(conn: asyncpg.Connection, endpoint_id: str, delivery_id: str,
                       now: datetime) -> asyncpg.Record | None:
    """A failed delivery back in the outbox, due now; None unless it was failed (a pending
    one is already on its way, a delivered one is done)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3
           WHERE endpoint_id = $1 AND id = $2 AND status = 'failed'
           RETURNING id, type, status, attempts, next_attempt_at, last_status_code,
                     last_error, created_at, delivered_at""",
        endpoint_id, delivery_id, now)
    return row


async def delivery_of_endpoint(conn: asyncpg.Connection, endpoint_id: str,
                               delivery_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, status FROM webhook_deliveries WHERE endpoint_id = $1 AND id = $2",
        endpoint_id, delivery_id)
    return row
