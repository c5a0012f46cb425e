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
from engagement.console.schemas import Role, UserCreate
from engagement.coupons import queries as coupon_queries
from engagement.coupons import service as coupons
from engagement.coupons.schemas import AmountOff, TemplateCreate
from engagement.kit.clock import Clock
from engagement.kit.config import Settings, resolve_secret_key
from engagement.kit.db import create_pool, transaction
from engagement.kit.hot_redis import connect_hot
from engagement.kit.jobs import connect_queue
from engagement.kit.state import Services
from engagement.members import service as members
from engagement.members.schemas import MemberCreate, MemberOut
from engagement.merchants import queries as merchant_queries
from engagement.merchants.schemas import Merchant, MerchantCreate
from engagement.merchants.service import create_merchant, issue_api_key
from engagement.points import queries as points_queries
from engagement.points import service as points
from engagement.points.schemas import EarnRule
from engagement.points.schemas import ProgramIn as PointsProgramIn
from engagement.stores import service as stores
from engagement.stores.schemas import StoreCreate

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_CASHIER_EMAIL = "cashier@example.com"
DEMO_STORE = "人民路店"
DEMO_TILL_COUPON = "满50减20"
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
                        secret_key=resolve_secret_key(settings),
                        cluster=await connect_hot(settings))
    now = services.clock.now()
    try:
        async with transaction(pool) as conn:
            merchant = await merchant_queries.merchant_by_slug(conn, DEMO_SLUG)
            if merchant is None:
                merchant, key = await create_merchant(
                    conn, MerchantCreate(name="演示咖啡馆 Demo Café", slug=DEMO_SLUG))
            else:
                key = await issue_api_key(conn, merchant.id, name="演示")
            await _points_program(conn, merchant, now)
            seeded = [
                (await members.create_or_get_member(
                    conn, merchant.id,
                    MemberCreate(external_id=external_id, phone=phone, name=name)))[0]
                for external_id, phone, name in DEMO_MEMBERS]
            console_login = await _console_login(conn, merchant, DEMO_EMAIL, "owner", None,
                                                 now)
            store_id = await _store(conn, merchant, now)
            till_login = await _console_login(conn, merchant, DEMO_CASHIER_EMAIL, "cashier",
                                              store_id, now)
            till_coupon = await _till_coupon(conn, merchant, seeded[0], now)
            ctx = DemoContext(services, merchant, key, seeded)
            base = settings.public_url.rstrip("/")
            ctx.lines += [f"Demo merchant: {merchant.name} ({merchant.id})",
                          f"API key (shown once): {key}",
                          f"Console: {base}/console  {console_login}",
                          f"Till (收银台, {DEMO_STORE}): {base}/till  {till_login}",
                          f"  at the till, look up {seeded[0].name} by phone {seeded[0].phone}"
                          f" or 尾号 {(seeded[0].phone or '')[-4:]}: coupon {till_coupon}"
                          f" ({DEMO_TILL_COUPON}) is hers to use", "",
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
        await services.close_helpers()
        if services.cluster is not None:
            await services.cluster.aclose()
        await redis.aclose()
        await pool.close()
    ctx.lines += ["", f"API docs: {base}/docs",
                  f"Try: curl -H 'Authorization: Bearer {key}' {base}/api/v1/members/<id>"]
    return "\n".join(ctx.lines)


async def _console_login(conn: asyncpg.Connection, merchant: Merchant, email: str,
                         role: Role, store_id: str | None, now: datetime) -> str:
    """A console user for the demo merchant with a fresh password, like the API key: shown
    once, replaced on every run."""
    password = secrets.token_urlsafe(12)
    user = await console_queries.user_by_email(conn, email)
    if user is None:
        await console.create_user(conn, merchant.id, UserCreate(
            email=email, password=password, role=role, store_id=store_id), now)
    elif user["merchant_id"] == merchant.id:
        await console.set_password(conn, user["id"], password)
    else:  # the address signs in to another merchant's console: leave it alone
        return f"(no login: {email} belongs to another merchant)"
    return f"email {email}  password (shown once) {password}"


async def _points_program(conn: asyncpg.Connection, merchant: Merchant, now: datetime) -> None:
    """1 point per ¥1 paid and 100 on joining (the till's receipt shows points earned), set
    once: a program the merchant changed stays as it is."""
    if await points_queries.program(conn, merchant.id) is None:
        await points.set_program(conn, merchant.id, PointsProgramIn(
            earn=EarnRule(per_amount=100, points=1), join_bonus=100, expiry_days=365), now)


async def _store(conn: asyncpg.Connection, merchant: Merchant, now: datetime) -> str:
    for store in await stores.list_stores(conn, merchant.id):
        if store.name == DEMO_STORE:
            return store.id
    return (await stores.create_store(conn, merchant.id, StoreCreate(name=DEMO_STORE),
                                      now)).id


async def _till_coupon(conn: asyncpg.Connection, merchant: Merchant, member: MemberOut,
                       now: datetime) -> str:
    """A coupon the first demo member can use at the till: the one she holds unused, or a
    new one given by hand."""
    template = next((t for t in await coupon_queries.templates_of_merchant(conn, merchant.id)
                     if t["name"] == DEMO_TILL_COUPON), None)
    if template is None:
        template_id = (await coupons.create_template(conn, merchant.id, TemplateCreate(
            name=DEMO_TILL_COUPON, discount=AmountOff(type="amount_off", amount=2000),
            min_spend=5000, stock=1000, valid_days=30))).id
    else:
        template_id = template["id"]
    for held in await coupon_queries.coupons_of_member(conn, member.id, None, 200):
        if held["template_id"] == template_id and held["status"] == "issued" and (
                held["expires_at"] is None or held["expires_at"] > now):
            return str(held["code"])
    return (await coupons.give_by_hand(conn, merchant.id, member.id, template_id, now)).code
