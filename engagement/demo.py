"""``engagement demo``: a demo merchant with members, so a newcomer sees the product at once.

The core seeds the merchant and its members; each domain adds what it brings (campaigns,
share links, ...) as a step that the CLI, a composition root, passes in. Running it again
reuses what exists and prints fresh links."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from engagement.console import queries as console_queries
from engagement.console import service as console
from engagement.console.schemas import UserCreate
from engagement.kit.clock import Clock
from engagement.kit.config import Settings, resolve_secret_key
from engagement.kit.db import create_pool, transaction
from engagement.kit.jobs import connect_queue
from engagement.kit.state import Services
from engagement.members import service as members
from engagement.members.schemas import MemberCreate, MemberOut
from engagement.merchants import queries as merchant_queries
from engagement.merchants.schemas import Merchant, MerchantCreate
from engagement.merchants.service import create_merchant, issue_api_key

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_MEMBERS = [("demo-alice", "13800000001", "小红"), ("demo-bob", "13800000002", "小明"),
                ("demo-carol", "13800000003", "阿伟")]


@dataclass
class DemoContext:
    services: Services
    merchant: Merchant
    api_key: str
    members: list[MemberOut]
    lines: list[str] = field(default_factory=list)


DemoStep = Callable[[DemoContext], Awaitable[None]]


async def seed_demo(settings: Settings, steps: Sequence[DemoStep] = ()) -> str:
    assert settings.database_url and settings.redis_url
    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    redis = await connect_queue(settings.redis_url)
    services = Services(settings=settings, pool=pool, redis=redis, clock=Clock(),
                        secret_key=resolve_secret_key(settings))
    now = services.clock.now()
    try:
        async with transaction(pool) as conn:
            merchant = await merchant_queries.merchant_by_slug(conn, DEMO_SLUG)
            if merchant is None:
                merchant, key = await create_merchant(
                    conn, MerchantCreate(name="演示咖啡馆 Demo Café", slug=DEMO_SLUG))
            else:
                key = await issue_api_key(conn, merchant.id)
            seeded = [
                (await members.create_or_get_member(
                    conn, merchant.id,
                    MemberCreate(external_id=external_id, phone=phone, name=name)))[0]
                for external_id, phone, name in DEMO_MEMBERS]
            console_login = await _console_login(conn, merchant, now)
            ctx = DemoContext(services, merchant, key, seeded)
            base = settings.public_url.rstrip("/")
            ctx.lines += [f"Demo merchant: {merchant.name} ({merchant.id})",
                          f"API key (shown once): {key}",
                          f"Console: {base}/console  {console_login}", "",
                          "Members (open an entry link on a phone to sign in):"]
            for member in seeded:
                token = await members.issue_token(
                    conn, merchant_id=merchant.id, member_id=member.id, now=now,
                    ttl=timedelta(hours=settings.member_token_ttl_hours),
                    public_url=settings.public_url)
                ctx.lines.append(f"  {member.name or '':4} {member.id}  {token.entry_url}")
        for step in steps:
            await step(ctx)
    finally:
        await redis.aclose()
        await pool.close()
    ctx.lines += ["", f"API docs: {base}/docs",
                  f"Try: curl -H 'Authorization: Bearer {key}' {base}/api/v1/members/<id>"]
    return "\n".join(ctx.lines)


async def _console_login(conn: asyncpg.Connection, merchant: Merchant, now: datetime) -> str:
    """A console user for the demo merchant with a fresh password, like the API key: shown
    once, replaced on every run."""
    password = secrets.token_urlsafe(12)
    user = await console_queries.user_by_email(conn, DEMO_EMAIL)
    if user is None:
        await console.create_user(conn, merchant.id, UserCreate(email=DEMO_EMAIL,
                                                                 password=password,
                                                                 role="owner"), now)
    elif user["merchant_id"] == merchant.id:
        await console.set_password(conn, user["id"], password)
    else:  # the address signs in to another merchant's console: leave it alone
        return f"(no login: {DEMO_EMAIL} belongs to another merchant)"
    return f"email {DEMO_EMAIL}  password (shown once) {password}"
