"""Points: an append-only ledger; ``members.points`` is its running sum, moved in the same
transaction as each entry so the balance shown always equals the sum of entries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel

from engagement.kit import hooks
from engagement.kit.constants import IDEMPOTENCY_TTL_SECONDS
from engagement.kit.errors import Conflict, IdempotencyKeyReused, NotFound
from engagement.kit.ids import new_id
from engagement.kit.pagination import next_cursor
from engagement.members import queries as member_queries
from engagement.points import queries
from engagement.points.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    EarnRule,
    EntryOut,
    PointsPage,
    PointValue,
    ProgramIn,
    ProgramOut,
)


class InsufficientPoints(Conflict):
    code, message = "insufficient_points", "Not enough points."


@dataclass(frozen=True)
class Entry:
    merchant_id: str
    member_id: str
    delta: int
    reason: str
    ref: str
    expires_at: datetime | None = None


async def post_entries(conn: asyncpg.Connection, entries: list[Entry], now: datetime) -> int:
    """Append entries once each (by ref) and move balances; returns how many were new.
    A debit that would take a balance below zero raises InsufficientPoints."""
    if not entries:
        return 0
    inserted = await queries.insert_entries(conn, [
        (new_id("pts"), e.merchant_id, e.member_id, e.delta, e.reason, e.ref, now, e.expires_at)
        for e in entries
    ])
    per_member: dict[str, int] = {}
    for row in inserted:
        per_member[row["member_id"]] = per_member.get(row["member_id"], 0) + row["delta"]
    for member_id in sorted(per_member):  # fixed order: no deadlocks between batches
        if await queries.add_to_balance(conn, member_id, per_member[member_id]) is None:
            raise InsufficientPoints(member_id=member_id)
    return len(inserted)


# --- The points program: earning rules, join bonus, expiry -------------------------------

def program_out(row: asyncpg.Record) -> ProgramOut:
    return ProgramOut(earn=EarnRule(per_amount=row["earn_per_amount"],
                                    points=row["earn_points"]),
                      join_bonus=row["join_bonus"], expiry_days=row["expiry_days"],
                      point_value=None if row["point_value_points"] is None
                      else PointValue(points=row["point_value_points"],
                                      cents=row["point_value_cents"]),
                      updated_at=row["updated_at"])


async def set_program(conn: asyncpg.Connection, merchant_id: str, data: ProgramIn,
                      now: datetime) -> ProgramOut:
    row = await queries.upsert_program(
        conn, merchant_id, per_amount=data.earn.per_amount, points=data.earn.points,
        join_bonus=data.join_bonus, expiry_days=data.expiry_days,
        value_points=data.point_value.points if data.point_value else None,
        value_cents=data.point_value.cents if data.point_value else None, now=now)
    return program_out(row)


async def point_value(conn: asyncpg.Connection | asyncpg.Pool,
                      merchant_id: str) -> PointValue | None:
    """What the merchant says its points are worth, if it has said."""
    row = await queries.program(conn, merchant_id)
    if row is None or row["point_value_points"] is None:
        return None
    return PointValue(points=row["point_value_points"], cents=row["point_value_cents"])


async def get_program(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> ProgramOut:
    row = await queries.program(conn, merchant_id)
    if row is None:
        raise NotFound("This merchant has no points program.")
    return program_out(row)


def _expiry(program: asyncpg.Record | None, earned_at: datetime) -> datetime | None:
    if program is None or program["expiry_days"] is None:
        return None
    return earned_at + timedelta(days=program["expiry_days"])


async def earned_expiry(conn: asyncpg.Connection, merchant_id: str,
                        earned_at: datetime) -> datetime | None:
    """When points earned now expire under the merchant's program (None: never), for
    credits the loyalty leaves give for what members do (the daily check-in)."""
    return _expiry(await queries.program(conn, merchant_id), earned_at)


async def on_order_paid(conn: asyncpg.Connection, order: hooks.OrderPaid) -> None:
    """Earn points for a paid order, once per order (ref 'order:<id>')."""
    program = await queries.program(conn, order.merchant_id)
    if program is None:
        return
    points = order.amount // program["earn_per_amount"] * program["earn_points"]
    if points <= 0:
        return
    now: datetime = order.created_at
    await post_entries(conn, [Entry(order.merchant_id, order.member_id, points,
                                    "order", f"order:{order.order_id}",
                                    _expiry(program, now))], now)


async def on_order_refunded(conn: asyncpg.Connection, refund: hooks.OrderRefunded) -> None:
    """Take back the points an order earned, in proportion to the amount refunded. Each
    refund takes floor(earned * refunded_after / paid) - floor(earned * refunded_before /
    paid), so the refunds of one order add up to exactly what it earned. Points already
    spent are not clawed back below zero: the take is capped at the balance."""
    earned = await queries.entry_by_ref(conn, refund.merchant_id,
                                        f"order:{refund.order_id}")
    paid = refund.paid
    if earned is None or paid <= 0:
        return
    before, after = refund.refunded_before, refund.refunded_before + refund.amount
    take = earned["delta"] * after // paid - earned["delta"] * before // paid
    balance = await queries.lock_member(conn, refund.member_id) or 0
    take = min(take, balance)
    if take <= 0:
        return
    await post_entries(conn, [Entry(refund.merchant_id, refund.member_id, -take,
                                    "refund", f"refund:{refund.refund_id}")],
                       refund.created_at)


async def on_member_created(conn: asyncpg.Connection, member: hooks.MemberCreated) -> None:
    """The join bonus (welcome value at once), once per member (ref 'join:<id>')."""
    program = await queries.program(conn, member.merchant_id)
    if program is None or program["join_bonus"] <= 0:
        return
    now: datetime = member.created_at
    await post_entries(conn, [Entry(member.merchant_id, member.member_id,
                                    program["join_bonus"], "join_bonus",
                                    f"join:{member.member_id}", _expiry(program, now))],
                       now)


# --- Reading and adjusting a member's points ----------------------------------------------

def entry_out(row: asyncpg.Record) -> EntryOut:
    return EntryOut(id=row["id"], delta=row["delta"], reason=row["reason"],
                    created_at=row["created_at"], expires_at=row["expires_at"])


async def points_page(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                      cursor: str | None, limit: int) -> PointsPage:
    rows = await queries.entries_of_member(conn, member_id, cursor, limit)
    return PointsPage(balance=await queries.balance(conn, member_id),
                      items=[entry_out(r) for r in rows],
                      next_cursor=next_cursor([r["id"] for r in rows], limit))


async def adjust(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                 data: AdjustmentIn, now: datetime, *, key: str | None) -> AdjustmentOut:
    """A manual credit or debit; a debit below zero is InsufficientPoints (409). A credit
    expires like earned points do."""
    if await member_queries.member_by_id(conn, merchant_id, member_id) is None:
        raise NotFound("No such member.")
    ref = f"manual:{key}" if key is not None else f"manual:{new_id('adj')}"
    expires_at = _expiry(await queries.program(conn, merchant_id), now) \
        if data.delta > 0 else None
    if await post_entries(conn, [Entry(merchant_id, member_id, data.delta, data.reason, ref,
                                       expires_at)], now) == 0:
        raise AdjustmentConflict(ref=ref)
    row = await queries.entry_by_ref(conn, merchant_id, ref)
    assert row is not None
    return AdjustmentOut(entry=entry_out(row), balance=await queries.balance(conn, member_id))


class AdjustmentConflict(Conflict):
    code, message = "adjustment_conflict", "An adjustment with this key exists already."


async def replay_or_claim(conn: asyncpg.Connection, merchant_id: str, scope: str, key: str,
                          request_hash: str, now: datetime) -> tuple[int, Any] | None:
    """For an Idempotency-Key: the first response (status, body) when the key was used
    before with the same body, None when this request is the first (and now owns the key).
    The same key with another body is IdempotencyKeyReused."""
    prior = await queries.claim_idempotency_key(conn, merchant_id, scope, key, request_hash,
                                                now)
    if prior is None:
        return None
    if prior["request_hash"] != request_hash:
        raise IdempotencyKeyReused()
    return prior["status"], prior["response"]


async def remember_response(conn: asyncpg.Connection, merchant_id: str, scope: str, key: str,
                            status: int, response: Any) -> None:
    await queries.store_idempotent_response(conn, merchant_id, scope, key, status, response)


async def respond_once(conn: asyncpg.Connection, merchant_id: str, scope: str,
                       key: str | None, request_hash: str, now: datetime,
                       make: Callable[[], Awaitable[BaseModel]],
                       status: int = 201) -> tuple[int, Any]:
    """The response (status, body) of ``make``, made at most once per Idempotency-Key: a
    retry with the key answers the first response. Without a key, ``make`` just runs."""
    if key is not None:
        prior = await replay_or_claim(conn, merchant_id, scope, key, request_hash, now)
        if prior is not None:
            return prior
    body = (await make()).model_dump(mode="json")
    if key is not None:
        await remember_response(conn, merchant_id, scope, key, status, body)
    return status, body


async def purge_idempotent_responses(conn: asyncpg.Connection, now: datetime) -> int:
    return await queries.delete_idempotent_responses_before(
        conn, now - timedelta(seconds=IDEMPOTENCY_TTL_SECONDS))


# --- Expiry -------------------------------------------------------------------------------

def _expiry_order(entry: asyncpg.Record) -> tuple[bool, datetime, str]:
    expires_at: datetime | None = entry["expires_at"]
    return (expires_at is None, expires_at or entry["created_at"], entry["id"])


def _unconsumed(entries: list[asyncpg.Record],
                settled: dict[str, int]) -> list[tuple[asyncpg.Record, int]]:
    """The credits not settled yet, soonest expiry first, each with what spending has not
    consumed of it: spending consumes the credits that expire soonest first (never-expiring
    credits last), whenever it happened."""
    spent = -sum(e["delta"] for e in entries
                 if e["delta"] < 0 and not e["ref"].startswith("expire:"))
    credits = [e for e in entries if e["delta"] > 0]
    for credit in credits:  # what spending had consumed of credits already settled
        if credit["id"] in settled:
            spent -= credit["delta"] - settled[credit["id"]]
    spent = max(spent, 0)
    out: list[tuple[asyncpg.Record, int]] = []
    for credit in sorted((c for c in credits if c["id"] not in settled), key=_expiry_order):
        used = min(spent, credit["delta"])
        spent -= used
        out.append((credit, credit["delta"] - used))
    return out


@dataclass(frozen=True)
class Expiring:
    """Points of one credit that will expire at ``expires_at`` unless spent first."""

    expires_at: datetime
    points: int


async def expiring_soon(conn: asyncpg.Connection, member_id: str, now: datetime,
                        within: timedelta) -> list[Expiring]:
    """What the expiry job will take by ``now + within`` if the member spends nothing: the
    unconsumed part of each credit due by then (by the rule of expire_member), never more
    than the balance. Credits already due that the daily job has not settled yet count."""
    balance = await queries.balance(conn, member_id)
    entries = await queries.all_entries_of_member(conn, member_id)
    settled = await queries.settled_expirations(conn, member_id)
    soon: list[Expiring] = []
    for credit, unused in _unconsumed(entries, settled):
        expires_at: datetime | None = credit["expires_at"]
        if expires_at is None or expires_at > now + within:
            continue
        left = min(unused, balance)
        balance -= left
        if left > 0:
            soon.append(Expiring(expires_at, left))
    return soon


async def expire_member(conn: asyncpg.Connection, member_id: str, now: datetime) -> int:
    """Expire what is left of the member's credits past their expiry; returns the points
    taken. The rule: spending consumes the credits that expire soonest first (never-expiring
    credits last), whenever it happened; an expired credit loses only what spending had not
    consumed. Each credit is settled once (points_expirations), so reruns take nothing."""
    balance = await queries.lock_member(conn, member_id)
    if balance is None:
        return 0
    entries = await queries.all_entries_of_member(conn, member_id)
    settled = await queries.settled_expirations(conn, member_id)
    newly: list[tuple[str, int]] = []
    expiring: list[Entry] = []
    for credit, unused in _unconsumed(entries, settled):
        if credit["expires_at"] is None or credit["expires_at"] > now:
            continue
        left = min(unused, balance)
        balance -= left
        newly.append((credit["id"], left))
        if left > 0:
            expiring.append(Entry(credit["merchant_id"], member_id, -left, "expired",
                                  f"expire:{credit['id']}"))
    if not newly:
        return 0
    await queries.insert_expirations(conn, member_id, newly, now)
    await post_entries(conn, expiring, now)
    return sum(-e.delta for e in expiring)


async def expire_due(conn: asyncpg.Connection, now: datetime, after: str | None,
                     batch: int) -> tuple[int, str | None]:
    """One batch of members with due credits: (points expired, last member id or None)."""
    members = await queries.members_with_due_credits(conn, now, after, batch)
    total = 0
    for member_id in members:
        total += await expire_member(conn, member_id, now)
    return total, (members[-1] if len(members) == batch else None)
