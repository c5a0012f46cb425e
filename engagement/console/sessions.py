"""Console sessions: a random id in an HttpOnly, SameSite=Lax cookie, the session itself in
Redis with an idle TTL.

Why not a signed cookie: a signed cookie stays valid until it expires, whatever happens on
the server, so "log out" would only forget it in one browser and a copied cookie would keep
working. A server-side session ends for everyone the moment it is deleted, and Redis is
already here, shared by every web process.

Each user's sessions are also listed under the user (``CONSOLE_USER_SESSIONS_KEY``), so that
removing a member of staff deletes every session they have open, in every browser, at
once. The console re-reads the user on every request as well (``shell.current_user``), which
also covers a sign-in that was finishing at the very moment of the removal."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from engagement.kit.constants import (
    CONSOLE_COOKIE,
    CONSOLE_SESSION_IDLE_SECONDS,
    CONSOLE_SESSION_KEY,
    CONSOLE_SESSION_MAX_SECONDS,
    CONSOLE_USER_SESSIONS_KEY,
)


@dataclass(frozen=True)
class Session:
    user_id: str
    merchant_id: str
    email: str
    started_at: float  # epoch seconds


def _key(session_id: str) -> str:
    return CONSOLE_SESSION_KEY.format(digest=hashlib.sha256(session_id.encode()).hexdigest())


def _index(user_id: str) -> str:
    return CONSOLE_USER_SESSIONS_KEY.format(user_id=user_id)


async def start(redis: Redis, *, user_id: str, merchant_id: str, email: str,
                now: datetime) -> str:
    session_id = secrets.token_urlsafe(32)
    key = _key(session_id)
    value = json.dumps({"user_id": user_id, "merchant_id": merchant_id, "email": email,
                        "started_at": now.timestamp()})
    # One transaction: a session is never open without being listed under its user. The
    # list holds session keys (digests), never ids a browser could present.
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, value, ex=CONSOLE_SESSION_IDLE_SECONDS)
        pipe.sadd(_index(user_id), key)
        pipe.expire(_index(user_id), CONSOLE_SESSION_MAX_SECONDS)
        await pipe.execute()
    return session_id


async def load(redis: Redis, session_id: str | None, now: datetime) -> Session | None:
    """The session, its idle timer restarted; None when unknown, idle too long or too old."""
    if not session_id or len(session_id) > 128:
        return None
    raw = await redis.getex(_key(session_id), ex=CONSOLE_SESSION_IDLE_SECONDS)
    if raw is None:
        return None
    data = json.loads(raw)
    session = Session(user_id=data["user_id"], merchant_id=data["merchant_id"],
                      email=data["email"], started_at=float(data["started_at"]))
    if now.timestamp() - session.started_at > CONSOLE_SESSION_MAX_SECONDS:
        await redis.delete(_key(session_id))
        return None
    return session


async def end(redis: Redis, session_id: str | None) -> None:
    if not session_id or len(session_id) > 128:
        return
    key = _key(session_id)
    raw = await redis.getdel(key)
    if raw is not None:
        await redis.srem(_index(json.loads(raw)["user_id"]), key)  # type: ignore[misc]


async def end_all(redis: Redis, user_id: str) -> int:
    """End every session of the user; the number ended (sessions that had already expired
    on their own are still listed, and count as nothing)."""
    keys = await redis.smembers(_index(user_id))  # type: ignore[misc]
    async with redis.pipeline(transaction=True) as pipe:
        if keys:
            pipe.delete(*keys)
        pipe.delete(_index(user_id))
        results = await pipe.execute()
    return int(results[0]) if keys else 0


def set_cookie(request: Request, response: Response, session_id: str) -> None:
    secure = request.app.state.services.settings.public_url.startswith("https://")
    # No max_age: the cookie ends with the browser, the session earlier if left idle.
    # Path "/": the till (/till) and the API calls it makes ride on the same session.
    response.set_cookie(CONSOLE_COOKIE, session_id, httponly=True, samesite="lax",
                        secure=secure, path="/")


def clear_cookie(response: Response) -> None:
    response.delete_cookie(CONSOLE_COOKIE, path="/", httponly=True, samesite="lax")
