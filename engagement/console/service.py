"""Console users: sign-in, and the staff an owner manages (add, change, remove).

Staff changes of one merchant run one at a time: each takes a lock on the merchant's row
first, then checks that the person acting is still an owner and that an owner remains. Two
owners demoting each other at the same moment would otherwise both see the other still an
owner, and leave the shop with none."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.console import passwords, queries, throttle
from engagement.console.schemas import LoginForm, StaffChange, UserCreate
from engagement.kit.errors import Conflict, Forbidden, NotFound, Unauthorized
from engagement.kit.ids import new_id
from engagement.kit.state import Services
from engagement.stores import service as stores


class EmailTaken(Conflict):
    code, message = "email_taken", "Another console user already has this email."


class WrongCredentials(Unauthorized):
    code, message = "wrong_credentials", "The email or the password is wrong."


class RoleForbidden(Forbidden):
    code, message = "role_forbidden", "Your role cannot open this page."


class UnknownStaff(NotFound):
    code, message = "unknown_staff", "No member of this merchant's staff has this id."


class CannotChangeSelf(Conflict):
    code, message = "cannot_change_self", "An owner cannot remove or demote themselves."


class LastOwner(Conflict):
    code, message = "last_owner", "The merchant must keep at least one owner."


async def create_user(conn: asyncpg.Connection, merchant_id: str, data: UserCreate,
                      now: datetime) -> asyncpg.Record:
    row = await queries.insert_user(
        conn, id=new_id("usr"), merchant_id=merchant_id, email=data.email,
        password_hash=await passwords.hash_password(data.password), role=data.role,
        store_id=data.store_id, now=now)
    if row is None:
        raise EmailTaken(email=data.email, fields=[{"field": "email"}])
    return row


async def set_password(conn: asyncpg.Connection, user_id: str, password: str) -> None:
    await queries.set_password_hash(conn, user_id, await passwords.hash_password(password))


async def authenticate(svc: Services, form: LoginForm, client: str) -> asyncpg.Record:
    """The user, once the throttle allows an attempt and the password matches. Unknown
    emails cost the same time as wrong passwords and count the same."""
    await throttle.attempt(svc.redis, form.email, client)
    user = await queries.user_by_email(svc.pool, form.email)
    stored = user["password_hash"] if user is not None else None
    if user is None or not await passwords.verify_password(stored, form.password):
        raise WrongCredentials()
    await throttle.succeeded(svc.redis, form.email)
    new_hash = None
    if passwords.needs_rehash(user["password_hash"]):
        new_hash = await passwords.hash_password(form.password)
    await queries.record_login(svc.pool, user["id"], svc.clock.now(), new_hash)
    return user


# Staff

async def add_staff(conn: asyncpg.Connection, merchant_id: str, data: UserCreate,
                    now: datetime) -> asyncpg.Record:
    """A new member of staff (the console and ``engagement staff create``); the store, when
    given, must be the merchant's (422 unknown_store)."""
    if data.store_id is not None:
        await stores.require_store(conn, merchant_id, data.store_id)
    return await create_user(conn, merchant_id, data, now)


async def staff_member(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                       user_id: str) -> asyncpg.Record:
    row = await queries.staff_member(conn, merchant_id, user_id)
    if row is None:
        raise UnknownStaff(user_id=user_id)
    return row


async def _locked(conn: asyncpg.Connection, merchant_id: str, actor_id: str,
                  user_id: str) -> asyncpg.Record:
    """Take the merchant's staff lock; then the actor must still be an owner (a change that
    waited on the lock may find they were demoted meanwhile) and the target on the staff."""
    await queries.lock_staff(conn, merchant_id)
    actor = await queries.staff_member(conn, merchant_id, actor_id)
    if actor is None or actor["role"] != "owner":
        raise RoleForbidden(role=actor["role"] if actor is not None else None)
    return await staff_member(conn, merchant_id, user_id)


async def _keep_an_owner(conn: asyncpg.Connection, merchant_id: str, user_id: str) -> None:
    if await queries.count_owners(conn, merchant_id, besides=user_id) == 0:
        raise LastOwner()


async def change_staff(conn: asyncpg.Connection, merchant_id: str, actor_id: str,
                       user_id: str, change: StaffChange) -> asyncpg.Record:
    target = await _locked(conn, merchant_id, actor_id, user_id)
    if change.store_id is not None:
        await stores.require_store(conn, merchant_id, change.store_id)
    if target["role"] == "owner" and change.role != "owner":
        if user_id == actor_id:
            raise CannotChangeSelf(fields=[{"field": "role"}])
        await _keep_an_owner(conn, merchant_id, user_id)
    row = await queries.update_staff(conn, merchant_id, user_id, role=change.role,
                                     store_id=change.store_id)
    assert row is not None  # locked and found above
    return row


async def remove_staff(conn: asyncpg.Connection, merchant_id: str, actor_id: str,
                       user_id: str, now: datetime) -> asyncpg.Record:
    """Mark the user removed (their orders keep naming them). The caller ends their
    sessions once this has committed (``sessions.end_all``)."""
    target = await _locked(conn, merchant_id, actor_id, user_id)
    if user_id == actor_id:
        raise CannotChangeSelf()
    if target["role"] == "owner":
        await _keep_an_owner(conn, merchant_id, user_id)
    await queries.remove_user(conn, merchant_id, user_id, now)
    return target
