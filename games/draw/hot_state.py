"""Campaign hot state in Redis, built from PostgreSQL (the record): at publish, after any
change, and again whenever Redis lost it (the draw script answers 'noprime')."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from engagement.kit.config import Settings
from engagement.kit.constants import DRAW_DAY_COUNTER_TTL_SECONDS, PRIME_LOCK_MS
from engagement.kit.hot_redis import HotRedis
from games.draw import queries
from games.draw.protocol import CampaignKeys, member_day_key, member_total_key
from games.draw.scripts import Scripts


def _ms(when: datetime | None) -> str:
    return "" if when is None else str(int(when.timestamp() * 1000))


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def build_meta(campaign: asyncpg.Record, prizes: list[asyncpg.Record],
               settings: Settings) -> dict[str, str]:
    return {
        "merchant": campaign["merchant_id"],
        "status": campaign["status"],
        "starts_ms": _ms(campaign["starts_at"]),
        "ends_ms": _ms(campaign["ends_at"]),
        "per_day": _opt(campaign["per_member_per_day"]),
        "total": _opt(campaign["per_member_total"]),
        "entry_cost": str(campaign["entry_cost_points"]),
        "prizes": json.dumps([_prize(p) for p in prizes], ensure_ascii=False),
        # Members' coupon holdings are seeded before their first draw, only where a prize's
        # coupon has a per-member limit: a campaign without one pays nothing for the rule.
        "coupons": "1" if any(_limited(p) for p in prizes) else "0",
        # Only a campaign that grants earned chances has its draws look them up.
        "chances": "1" if any(campaign[f"chance_per_{source}"] is not None
                              for source in ("order", "check_in", "invite")) else "0",
        "total_weight": str(sum(p["weight"] for p in prizes)),
        # 保底: after this many loses in a row, the member's next draw wins this prize.
        "pity_after": _opt(campaign["pity_after"]),
        "pity_prize": campaign["pity_prize_id"] or "",
        "rate_limit": str(settings.draw_rate_limit),
        "rate_window": str(settings.draw_rate_window_seconds),
    }


def _limited(p: asyncpg.Record) -> bool:
    return p["kind"] == "coupon" and p["per_member_limit"] is not None


def _prize(p: asyncpg.Record) -> dict[str, object]:
    prize: dict[str, object] = {"id": p["id"], "name": p["name"], "kind": p["kind"],
                                "w": p["weight"]}
    if _limited(p):  # the script counts this prize against the member's holdings
        prize["t"] = p["coupon_template_id"]
    return prize


def quantities(prizes: list[asyncpg.Record]) -> dict[str, int]:
    return {p["id"]: p["quantity"] for p in prizes
            if p["kind"] != "nothing" and p["quantity"] is not None}


async def patch(pool: asyncpg.Pool | asyncpg.Connection, scripts: Scripts, settings: Settings,
                campaign_id: str) -> bool:
    """Push a committed change (status, window, names, quantities) into primed state;
    False when there was no primed state to change."""
    campaign = await queries.campaign_by_id(pool, campaign_id)
    assert campaign is not None
    prizes = await queries.prizes(pool, campaign_id)
    return await scripts.run_patch(campaign_id, meta=build_meta(campaign, prizes, settings),
                                   qty=quantities(prizes))


async def prime(pool: asyncpg.Pool, redis: HotRedis, scripts: Scripts, settings: Settings,
                campaign_id: str, time_zone: str, now: datetime) -> None:
    """(Re)build a campaign's hot state from PostgreSQL: remaining = quantity - wins recorded.

    One process primes while others wait for it. Member counters are restored before the
    meta key appears, because the meta key is what lets draws through again."""
    keys = CampaignKeys.of(campaign_id)
    token = secrets.token_hex(8)
    if not await redis.set(keys.prime_lock, token, nx=True, px=PRIME_LOCK_MS):
        for _ in range(PRIME_LOCK_MS // 20):
            if await redis.exists(keys.meta):
                return
            await asyncio.sleep(0.02)
        return
    try:
        if await redis.exists(keys.meta):  # primed by someone else meanwhile
            return
        campaign = await queries.campaign_by_id(pool, campaign_id)
        if campaign is None or campaign["status"] == "draft":  # drafts cannot be drawn
            return
        prizes = await queries.prizes(pool, campaign_id)
        wins = await queries.win_counts(pool, campaign_id)
        totals = await queries.draw_totals(pool, campaign_id)
        today = now.astimezone(ZoneInfo(time_zone)).date()
        days: list[date] = [today - timedelta(days=1), today]
        per_day = await queries.member_draw_counts(pool, campaign_id, days)
        per_member = await queries.member_total_counts(pool, campaign_id)
        async with redis.pipeline(transaction=False) as pipe:
            for row in per_day:
                pipe.set(member_day_key(campaign_id, row["member_id"], row["local_day"]),
                         row["n"], nx=True, ex=DRAW_DAY_COUNTER_TTL_SECONDS)
            for row in per_member:
                pipe.set(member_total_key(campaign_id, row["member_id"]), row["n"], nx=True)
            await pipe.execute()
        meta = build_meta(campaign, prizes, settings)
        if totals["draws"]:
            # Draws were made, so Redis held this state before and lost it, and with it
            # perhaps the records of Idempotency-Keys: the draw script asks for PostgreSQL's
            # record of a key it does not know for as long as a record would have lived.
            meta["recovered_ms"] = str(int(now.timestamp() * 1000))
        await scripts.run_prime(
            campaign_id, meta=meta,
            wins={p["id"]: wins.get(p["id"], 0) for p in prizes if p["kind"] != "nothing"},
            qty=quantities(prizes),
            stats={"draws": totals["draws"], "players": totals["players"]},
        )
    finally:
        if await redis.get(keys.prime_lock) == token.encode():
            await redis.delete(keys.prime_lock)
