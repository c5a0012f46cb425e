"""Points: an append-only ledger; ``members.points`` is its running sum, moved in the same
transaction as each entry so the balance shown always equals the sum of entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from engagement.errors import Conflict
from engagement.ids import new_id
from engagement.points import queries


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
