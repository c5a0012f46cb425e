"""Webhooks: merchants register URLs for events; each event writes one delivery per
subscribed endpoint into an outbox table in the event's own transaction, and a job POSTs
them, signed the Standard Webhooks way (https://www.standardwebhooks.com), retrying with
backoff for about three days. Receivers dedupe on the webhook-id header: a delivery whose
response was lost may arrive twice, never as two different ids."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from engagement.kit import hooks
from engagement.kit.errors import Conflict, NotFound
from engagement.kit.ids import new_id
from engagement.kit.pagination import next_cursor
from engagement.loyalty.webhooks import queries
from engagement.loyalty.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointCreate,
    EndpointList,
    EndpointOut,
    EndpointSummary,
)
from engagement.loyalty.webhooks.targets import UrlNotAllowed, check_target

# After attempt n fails, the next one waits RETRY_DELAYS[n - 1]; after the last, the
# delivery is failed. About three days in all, so a receiver down over a weekend catches up.
RETRY_DELAYS = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=5), timedelta(hours=10),
                timedelta(hours=14), timedelta(hours=20), timedelta(hours=24))
# A claimed delivery comes due again after this long if its worker died mid-attempt.
LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 10.0
BATCH = 100


# --- Signing ---------------------------------------------------------------------------

def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: 'v1,' + base64 HMAC-SHA256 of 'id.timestamp.body'
    keyed with the secret's base64-decoded bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


# --- Endpoints and the delivery log ------------------------------------------------------

async def create_endpoint(conn: asyncpg.Connection, merchant_id: str, data: EndpointCreate,
                          now: datetime, *, allow_private: bool) -> EndpointOut:
    await check_target(data.url, allow_private=allow_private)
    row = await queries.insert_endpoint(
        conn, id=new_id("whk"), merchant_id=merchant_id, url=data.url,
        events=sorted(set(data.events)), secret=new_secret(), now=now)
    return EndpointOut(id=row["id"], url=row["url"], events=list(row["events"]),
                       secret=row["secret"], created_at=row["created_at"])


async def deliveries(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                     endpoint_id: str, cursor: str | None, limit: int) -> DeliveryPage:
    if await queries.endpoint_by_id(conn, merchant_id, endpoint_id) is None:
        raise NotFound("No such webhook.")
    rows = await queries.deliveries_of_endpoint(conn, endpoint_id, cursor, limit)
    return DeliveryPage(items=[DeliveryOut(**dict(r)) for r in rows],
                        next_cursor=next_cursor([r["id"] for r in rows], limit))


async def list_endpoints(conn: asyncpg.Connection | asyncpg.Pool,
                         merchant_id: str) -> EndpointList:
    return EndpointList(items=[
        EndpointSummary(id=r["id"], url=r["url"], events=list(r["events"]),
                        created_at=r["created_at"], failed=r["failed"])
        for r in await queries.endpoints_of_merchant(conn, merchant_id)])


class DeliveryNotFailed(Conflict):
    code, message = "delivery_not_failed", "Only a failed delivery can be retried."


async def retry(conn: asyncpg.Connection, merchant_id: str, endpoint_id: str,
                delivery_id: str, now: datetime) -> DeliveryOut:
    """Send a failed delivery once more, with its own webhook-id (receivers dedupe on it):
    it is due at once, and if this attempt fails too it is failed again, not retried for
    days. A delivery that is pending or delivered is DeliveryNotFailed."""
    if await queries.endpoint_by_id(conn, merchant_id, endpoint_id) is None:
        raise NotFound("No such webhook.")
    row = await queries.retry_failed(conn, endpoint_id, delivery_id, now)
    if row is None:
        if await queries.delivery_of_endpoint(conn, endpoint_id, delivery_id) is None:
            raise NotFound("No such delivery.")
        raise DeliveryNotFailed(delivery_id=delivery_id)
    return DeliveryOut(**dict(row))


# --- The outbox: events in, in the event's transaction -----------------------------------

def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def publish(conn: asyncpg.Connection, merchant_id: str, event_type: str,
                  data: dict[str, Any], now: datetime) -> None:
    endpoints = await queries.subscribed_endpoints(conn, merchant_id, event_type)
    if not endpoints:
        return
    payload = {"type": event_type, "timestamp": now.isoformat(),
               "data": {k: _iso(v) for k, v in data.items()}}
    await queries.insert_deliveries(conn, [
        (new_id("msg"), merchant_id, endpoint_id, event_type, payload, now)
        for endpoint_id in endpoints])


# What a webhook of each core event carries (the Standard Webhooks body's "data").
_FIELDS: dict[type, tuple[str, ...]] = {
    hooks.MemberCreated: ("member_id",),
    hooks.OrderPaid: ("order_id", "member_id", "amount"),
    hooks.OrderRefunded: ("order_id", "member_id", "refund_id", "amount", "paid"),
}


async def on_event(conn: asyncpg.Connection,
                   event: hooks.MemberCreated | hooks.OrderPaid | hooks.OrderRefunded) -> None:
    await publish(conn, event.merchant_id, event.name,
                  {f: getattr(event, f) for f in _FIELDS[type(event)]}, event.created_at)


LISTENED = tuple(_FIELDS)


async def on_coupon_redeemed(conn: asyncpg.Connection, event: hooks.CouponRedeemed) -> None:
    merchant_id = await queries.merchant_of_template(conn, event.template_id)
    if merchant_id is not None:
        await publish(conn, merchant_id, event.name,
                      {"code": event.code, "template_id": event.template_id,
                       "order_id": event.order_id}, event.redeemed_at)


# --- Delivering --------------------------------------------------------------------------

def next_attempt(attempt: int, now: datetime) -> datetime | None:
    return now + RETRY_DELAYS[attempt - 1] if attempt <= len(RETRY_DELAYS) else None


async def attempt(client: httpx.AsyncClient, delivery: asyncpg.Record,
                  now: datetime) -> tuple[int | None, str | None, int]:
    """One POST through ``targets.delivery_client``, which refuses a host that resolves to a
    private address now (whatever it resolved to at registration); (status code, error,
    duration in ms). Never raises for the receiver's failures: they are the delivery log's
    business."""
    body = json.dumps(delivery["payload"], separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(now.timestamp())
    headers = {"content-type": "application/json", "webhook-id": delivery["id"],
               "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(delivery["secret"], delivery["id"], timestamp, body)}
    started = time.monotonic()
    try:
        response = await client.post(delivery["url"], content=body, headers=headers)
        return response.status_code, None, int((time.monotonic() - started) * 1000)
    except UrlNotAllowed:
        return None, "url_not_allowed", 0
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], int((time.monotonic() - started) * 1000)


async def claim_due(conn: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    return await queries.claim_due(conn, now, now + LEASE, BATCH)


async def record(conn: asyncpg.Connection, delivery: asyncpg.Record, status_code: int | None,
                 error: str | None, duration_ms: int, now: datetime) -> bool:
    """Log the attempt and move the delivery on; True when delivered (any 2xx)."""
    number = delivery["attempts"] + 1
    delivered = status_code is not None and 200 <= status_code < 300
    await queries.record_attempt(
        conn, attempt_id=new_id("wha"), delivery_id=delivery["id"], attempt=number,
        status_code=status_code, error=error, duration_ms=duration_ms, now=now,
        delivered=delivered, next_attempt_at=None if delivered else next_attempt(number, now))
    return delivered
