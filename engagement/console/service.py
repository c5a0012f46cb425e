"""Console users and sign-in."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.console import passwords, queries, throttle
from engagement.console.schemas import LoginForm, UserCreate
from engagement.kit.errors import Conflict, Unauthorized
from engagement.kit.ids import new_id
from engagement.kit.state import Services


class EmailTaken(Conflict):
    code, message = "email_taken", "Another console user already has this email."


class WrongCredentials(Unauthorized):
    code, message = "wrong_credentials", "The email or the password is wrong."


async def create_user(conn: asyncpg.Connection, merchant_id: str, data: UserCreate,
                      now: datetime) -> asyncpg.Record:
    row = await queries.insert_user(
        conn, id=new_id("usr"), merchant_id=merchant_id, email=data.email,
        password_hash=await passwords.hash_password(data.password), role=data.role,
        store_id=data.store_id, now=now)
    if row is None:
        raise EmailTaken(email=data.email)
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
