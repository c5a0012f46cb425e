from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from engagement.kit import hooks
from engagement.kit.errors import Conflict, InvalidInput, NotFound
from engagement.kit.ids import new_id
from engagement.kit.security import digest, new_member_token
from engagement.members import queries
from engagement.members.schemas import (
    MemberCreate,
    MemberOut,
    MemberUpdate,
    MyProfileUpdate,
    TokenOut,
)


class PhoneTaken(Conflict):
    code, message = "phone_taken", "Another member of this merchant has this phone number."


class UnknownShareCode(InvalidInput):
    code, message = "unknown_share_code", "No share link has this code."


class BirthdayLocked(Conflict):
    code, message = ("birthday_locked",
                     "The birthday is on file; only the merchant can change it.")


def member_out(row: asyncpg.Record) -> MemberOut:
    return MemberOut(**dict(row))


async def create_or_get_member(conn: asyncpg.Connection, merchant_id: str,
                               data: MemberCreate, *, referrer_id: str | None = None
                               ) -> tuple[MemberOut, bool]:
    """Returns the member and whether it was created now (201) or existed (200)."""
    existing = await queries.member_by_external_id(conn, merchant_id, data.external_id)
    if existing is not None:
        return member_out(existing), False
    if data.phone and await queries.member_by_phone(conn, merchant_id, data.phone):
        raise PhoneTaken(phone=data.phone)
    row = await queries.insert_member(
        conn, id=new_id("mbr"), merchant_id=merchant_id, external_id=data.external_id,
        phone=data.phone, name=data.name, birthday=data.birthday, referrer_id=referrer_id,
    )
    if row is None:  # created concurrently by a twin request
        existing = await queries.member_by_external_id(conn, merchant_id, data.external_id)
        assert existing is not None
        return member_out(existing), False
    await hooks.emit(conn, hooks.MemberCreated(
        merchant_id=merchant_id, member_id=row["id"], created_at=row["created_at"]))
    # Listeners may have moved the new member's points (a join bonus): show them.
    fresh = await queries.member_by_id(conn, merchant_id, row["id"])
    return member_out(fresh or row), True


async def issue_token(conn: asyncpg.Connection, *, merchant_id: str, member_id: str,
                      now: datetime, ttl: timedelta, public_url: str) -> TokenOut:
    token = new_member_token()
    expires_at = now + ttl
    await queries.insert_token(
        conn, id=new_id("mtk"), merchant_id=merchant_id, member_id=member_id,
        token_hash=digest(token), expires_at=expires_at,
    )
    return TokenOut(token=token, expires_at=expires_at,
                    entry_url=f"{public_url.rstrip('/')}/m/enter?token={token}")


async def purge_expired_tokens(conn: asyncpg.Connection, now: datetime) -> int:
    return await queries.delete_expired_tokens(conn, now)


def _changes(data: MemberUpdate | MyProfileUpdate) -> dict[str, object]:
    """The fields sent, with an empty name stored as none."""
    changes: dict[str, object] = {f: getattr(data, f) for f in data.model_fields_set}
    if "name" in changes:
        changes["name"] = (str(changes["name"] or "").strip() or None)
    return changes


async def update_member(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                        data: MemberUpdate) -> MemberOut:
    """The merchant's change: any field, the birthday too (also once the member set it)."""
    changes = _changes(data)
    phone = changes.get("phone")
    if isinstance(phone, str):
        other = await queries.member_by_phone(conn, merchant_id, phone)
        if other is not None and other["id"] != member_id:
            raise PhoneTaken(phone=phone)
    row = await queries.update_member(conn, merchant_id, member_id, changes,
                                      birthday_once=False)
    if row is None:
        raise NotFound("No such member.")
    return member_out(row)


async def update_my_profile(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                            data: MyProfileUpdate) -> MemberOut:
    """The member's own change: the name any time, the birthday once. Sending the birthday
    already on file again (a retry) changes nothing and is not an error; any other birthday
    once one is on file is BirthdayLocked, and then nothing of the request is saved."""
    row = await queries.update_member(conn, merchant_id, member_id, _changes(data),
                                      birthday_once=True)
    if row is None:
        if await queries.member_by_id(conn, merchant_id, member_id) is None:
            raise NotFound("No such member.")
        raise BirthdayLocked()
    return member_out(row)
