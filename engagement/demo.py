"""``engagement demo``: a demo merchant with members, so a newcomer sees the product at once.
Each domain adds what it brings (campaigns, share links, ...) here."""

from __future__ import annotations

from datetime import timedelta

from engagement.clock import Clock
from engagement.config import Settings
from engagement.db import create_pool, transaction
from engagement.members import service as members
from engagement.members.schemas import MemberCreate
from engagement.merchants import queries as merchant_queries
from engagement.merchants.schemas import MerchantCreate
from engagement.merchants.service import create_merchant, issue_api_key

DEMO_SLUG = "demo"
DEMO_MEMBERS = [("demo-alice", "13800000001", "小红"), ("demo-bob", "13800000002", "小明"),
                ("demo-carol", "13800000003", "阿伟")]


async def seed_demo(settings: Settings) -> str:
    assert settings.database_url
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    now = Clock().now()
    lines: list[str] = []
    try:
        async with transaction(pool) as conn:
            merchant = await merchant_queries.merchant_by_slug(conn, DEMO_SLUG)
            if merchant is None:
                merchant, key = await create_merchant(
                    conn, MerchantCreate(name="演示咖啡馆 Demo Café", slug=DEMO_SLUG))
            else:
                key = await issue_api_key(conn, merchant.id)
            lines += [f"Demo merchant: {merchant.name} ({merchant.id})",
                      f"API key (shown once): {key}", "",
                      "Members (open an entry link on a phone to sign in):"]
            for external_id, phone, name in DEMO_MEMBERS:
                member, _ = await members.create_or_get_member(
                    conn, merchant.id,
                    MemberCreate(external_id=external_id, phone=phone, name=name))
                token = await members.issue_token(
                    conn, merchant_id=merchant.id, member_id=member.id, now=now,
                    ttl=timedelta(hours=settings.member_token_ttl_hours),
                    public_url=settings.public_url)
                lines.append(f"  {name:4} {member.id}  {token.entry_url}")
    finally:
        await pool.close()
    base = settings.public_url.rstrip("/")
    lines += ["", f"API docs: {base}/docs",
              f"Try: curl -H 'Authorization: Bearer {key}' {base}/api/v1/members/<id>"]
    return "\n".join(lines)
