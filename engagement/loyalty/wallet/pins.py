"""The member's payment PIN (支付密码) for paying from the balance.

Six digits are few, so the PIN is stored only as an argon2id hash with its own random salt
(as engagement/console/passwords.py hashes passwords, run in a thread), with OWASP's
minimum argon2id profile (19 MiB, 2 passes): a check holds the member's PIN row while it
hashes, so it is kept to tens of milliseconds; what really guards six digits is the lock.
The PIN is never logged or kept with an order. Five wrong PINs in a row lock balance payments for
``LOCK_FOR`` by the service's clock; a right one clears the count.

Every check of a member's PIN takes the member's ``balance_pins`` row FOR UPDATE and
commits on its own connection before the order's transaction begins: checks of one member
queue, so five wrong PINs sent at once are counted one by one (the fifth locks, a sixth
finds the lock), and a failure stays counted although the order it came with fails. Within
one process they queue first on an asyncio lock per member, so that a burst holds one
pooled connection rather than one each.

Changing a PIN once one is set needs the old one, checked the same way (it counts towards
the same lock): a member token is a link that may be left open on a shared phone, and the
PIN is what guards the money. A member who forgot it asks the shop: an owner clears it in
the console (``reset``), and the member sets a new one on their own phone; staff never
learn or choose it."""

from __future__ import annotations

import asyncio
import weakref
from datetime import datetime, timedelta

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engagement.kit.db import transaction
from engagement.kit.errors import AppError, Forbidden, InvalidInput
from engagement.loyalty.wallet import queries

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Checks of one member in this process wait here before they take a connection, so that a
# burst of them holds one pooled connection (on the row lock), not one each.
_queues: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _queue(member_id: str) -> asyncio.Lock:
    lock = _queues.get(member_id)
    if lock is None:
        lock = _queues[member_id] = asyncio.Lock()
    return lock


class BadPin(Forbidden):
    code, message = "bad_pin", "The payment PIN is wrong."


class PinNotSet(Forbidden):
    code, message = "pin_not_set", "The member has not set a payment PIN yet (on /m/balance)."


class PinLocked(AppError):
    status, code = 423, "pin_locked"
    message = "Too many wrong PINs: balance payments are locked for a while."


async def _hash(pin: str) -> str:
    return await asyncio.to_thread(_hasher.hash, pin)


def _matches(stored: str, pin: str) -> bool:
    try:
        return _hasher.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        return False


async def _check(conn: asyncpg.Connection, row: asyncpg.Record, member_id: str, pin: str,
                 now: datetime) -> bool:
    """Check ``pin`` against the locked row and record the outcome; raises PinLocked while
    the lock runs. True when it matches."""
    if row["locked_until"] is not None and row["locked_until"] > now:
        raise PinLocked(locked_until=row["locked_until"].isoformat())
    failures = row["failures"] if row["locked_until"] is None else 0  # a lock ran out
    if await asyncio.to_thread(_matches, row["pin_hash"], pin):
        await queries.update_pin(conn, member_id, failures=0, locked_until=None, now=now)
        return True
    failures += 1
    locked_until = now + LOCK_FOR if failures >= MAX_FAILURES else None
    await queries.update_pin(conn, member_id, failures=0 if locked_until else failures,
                             locked_until=locked_until, now=now)
    return False


async def authorize(pool: asyncpg.Pool, merchant_id: str, member_id: str, pin: str,
                    now: datetime) -> None:
    """The BalancePayments port's PIN check (engagement/orders/balance.py): raises
    PinNotSet, PinLocked or BadPin; a failure is committed before it is raised."""
    async with _queue(member_id), transaction(pool) as conn:
        row = await queries.locked_pin(conn, merchant_id, member_id)
        if row is None or row["pin_hash"] is None:
            raise PinNotSet()
        ok = await _check(conn, row, member_id, pin, now)
    if not ok:  # raised after the commit, so that the failure stays counted
        raise BadPin()


async def set_pin(pool: asyncpg.Pool, merchant_id: str, member_id: str, pin: str,
                  old_pin: str | None, now: datetime) -> None:
    """Set the PIN; once one is set, changing it needs the old one (a wrong old PIN counts
    towards the lock like a wrong payment PIN)."""
    async with _queue(member_id), transaction(pool) as conn:
        await queries.ensure_pin_row(conn, merchant_id, member_id, now)
        row = await queries.locked_pin(conn, merchant_id, member_id)
        assert row is not None
        ok = True
        if row["pin_hash"] is not None:
            if old_pin is None:
                raise InvalidInput("Changing the PIN needs the old one.",
                                   fields=[{"field": "old_pin"}])
            ok = await _check(conn, row, member_id, old_pin, now)
        if ok:
            await queries.update_pin(conn, member_id, failures=0, locked_until=None, now=now,
                                     pin_hash=await _hash(pin))
    if not ok:
        raise BadPin()


async def reset(pool: asyncpg.Pool, merchant_id: str, member_id: str, now: datetime) -> None:
    """Clear a forgotten PIN (and its lock): the member sets a new one without the old."""
    async with _queue(member_id), transaction(pool) as conn:
        await queries.clear_pin(conn, merchant_id, member_id, now)


async def pin_state(conn: asyncpg.Connection | asyncpg.Pool, member_id: str,
                    now: datetime) -> tuple[bool, datetime | None]:
    """(whether a PIN is set, until when payments are locked, if they are)."""
    row = await queries.pin_row(conn, member_id)
    if row is None:
        return False, None
    locked = row["locked_until"] if row["locked_until"] and row["locked_until"] > now else None
    return row["pin_hash"] is not None, locked
