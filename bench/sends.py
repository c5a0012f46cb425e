"""Send benchmark: a coupon to a segment of N members (default 100,000) with a 10% holdout.

    .venv/bin/python bench/sends.py [--members 100000] [--holdout 10]

Needs PostgreSQL and Redis (ENGAGEMENT_DATABASE_URL / ENGAGEMENT_REDIS_URL, default
127.0.0.1). It creates a scratch database, seeds a merchant, N members and an unlimited
coupon template, runs the send job (`sends.run`) in process, then prints how long it took
and checks the counts are exact: targeted N, held out round(N * holdout / 100), one coupon
per treated member."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engagement.kit.clock import Clock  # noqa: E402
from engagement.kit.config import Settings  # noqa: E402
from engagement.kit.db import create_pool, transaction  # noqa: E402
from engagement.kit.jobs import connect_queue  # noqa: E402
from engagement.kit.migrate import apply_migrations  # noqa: E402
from engagement.kit.state import Services  # noqa: E402
from engagement.loyalty.sends import service as sends  # noqa: E402
from engagement.loyalty.sends import tasks  # noqa: E402
from engagement.loyalty.sends.schemas import SendCreate  # noqa: E402
from engagement.merchants.schemas import MerchantCreate  # noqa: E402
from engagement.merchants.service import create_merchant  # noqa: E402


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def run(db_url: str, redis_url: str, members: int, holdout: int) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=4)
    queue = await connect_queue(redis_url)
    clock = Clock()
    svc = Services(settings=Settings(database_url=db_url, redis_url=redis_url), pool=pool,
                   redis=queue, clock=clock, secret_key="bench")
    try:
        async with transaction(pool) as conn:
            merchant, _ = await create_merchant(conn, MerchantCreate(name="Bench Shop"))
            template_id = await conn.fetchval(
                """INSERT INTO coupon_templates (id, merchant_id, name, discount)
                   VALUES ('tpl_bench', $1, '满100减20', '{"type": "amount_off", "amount": 2000}')
                   RETURNING id""", merchant.id)
            await conn.execute(
                """INSERT INTO members (id, merchant_id, external_id)
                   SELECT 'mbr_b' || lpad(i::text, 9, '0'), $1, 'b-' || i
                   FROM generate_series(1, $2) AS i""", merchant.id, members)
        async with svc.unit() as unit:
            queued = await sends.create_send(unit, merchant.id, SendCreate(
                name="bench", coupon_template_id=template_id, holdout_percent=holdout),
                clock.now())
        started = time.perf_counter()
        ctx: dict[str, Any] = {"services": svc}
        await tasks.run(ctx, queued.id)
        elapsed = time.perf_counter() - started
        result = await sends.get_send(pool, merchant.id, queued.id)
        coupons = await pool.fetchval("SELECT count(*) FROM coupons WHERE source = 'send'")
        expected_holdout = round(members * holdout / 100)
        print(f"send to {members:,} members: {elapsed:.2f} s "
              f"({members / elapsed:,.0f} members/s)")
        print(f"status {result.status}, targeted {result.targeted:,}, held out "
              f"{result.held_out:,}, issued {result.issued:,}, coupons {coupons:,}")
        exact = (result.status == "done" and result.targeted == members
                 and result.held_out == expected_holdout
                 and result.issued == coupons == members - expected_holdout)
        print("counts exact:", "yes" if exact else "NO")
        if not exact:
            raise SystemExit(1)
    finally:
        await queue.aclose()
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--holdout", type=int, default=10)
    args = parser.parse_args()
    admin = os.environ.get("ENGAGEMENT_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("ENGAGEMENT_REDIS_URL", "redis://127.0.0.1:6379/0")
    name = f"engagement_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = with_db(admin, name)
    try:
        apply_migrations(db_url)
        asyncio.run(run(db_url, redis_url, args.members, args.holdout))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
