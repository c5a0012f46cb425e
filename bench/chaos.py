"""Chaos benchmark: draws at a steady rate while workers are killed, Redis is flushed and the
service's database connections are cut; then every accepted draw is checked.

    .venv/bin/python bench/chaos.py [--seconds 60] [--rate 60] [--every 5]

Needs PostgreSQL and Redis (ENGAGEMENT_DATABASE_URL / ENGAGEMENT_REDIS_URL, default
127.0.0.1; the Redis database is --redis-db, 12 by default, and it is FLUSHED). It creates
a scratch database, starts `engagement serve --workers 2` and two `engagement worker`
processes, seeds a merchant, members and a wheel with a coupon prize and a points prize
(quantities the run exhausts), then draws at --rate per second, each draw with its own
Idempotency-Key, retried with the same key on an error or a timeout as a phone would. Every
--every seconds it does the next of: SIGKILL a worker (restarted a second later); FLUSHDB
the service's Redis (hot state, idempotency records, the job queue, all of it); terminate
every PostgreSQL connection of the service (pg_terminate_backend). After the run it replays
a sample of the accepted keys, waits for settlement and prints:

- wins, coupons, points credits: as PostgreSQL holds them;
- lost: accepted draws PostgreSQL does not hold (or holds with another outcome or prize),
  and wins with no coupon or points credit after settlement;
- duplicated: more than one coupon or credit for a win, more wins of a prize than its
  quantity, more than one draw under one Idempotency-Key, a replay answered with another
  draw, a coupon template with more issued than its stock.

Both must be 0; the exit status is 1 otherwise."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import draws as bench
import httpx
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
EXE = [sys.executable, "-m", "engagement.cli"]
IN_FLIGHT = 64


@dataclass
class Accepted:
    key: str
    token: str
    draw_id: str
    outcome: str
    prize_id: str | None
    body: dict[str, Any]


@dataclass
class Tally:
    accepted: list[Accepted] = field(default_factory=list)
    attempts: int = 0
    retried: int = 0
    gave_up: int = 0  # draws never answered after every retry (not accepted: not counted)
    refused: dict[int, int] = field(default_factory=dict)  # 4xx answers, by status
    latencies: list[float] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)


class Processes:
    """The service: web processes and workers, the workers killable one by one."""

    def __init__(self, env: dict[str, str], port: int, web_workers: int, workers: int,
                 logs: Path) -> None:
        self.env, self.logs = env, logs
        self.web = self._start(["serve", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", str(web_workers)], "serve")
        self.workers = [self._start(["worker"], f"worker-{i}") for i in range(workers)]
        self.restarts = 0

    def _start(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as out:
            return subprocess.Popen([*EXE, *args], env=self.env, stdout=out, stderr=out)

    async def kill_worker(self) -> None:
        i = self.restarts % len(self.workers)
        self.workers[i].send_signal(signal.SIGKILL)
        await asyncio.sleep(1)
        self.workers[i].wait()
        self.restarts += 1
        self.workers[i] = self._start(["worker"], f"worker-{i}")

    def stop(self) -> None:
        for proc in (self.web, *self.workers):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self.web, *self.workers):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def seed(base: str, api_key: str, members: int, quantity: int
               ) -> tuple[str, dict[str, int], list[str]]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        tpl = (await client.post("/api/v1/coupon-templates", json={
            "name": "混沌券", "discount": {"type": "amount_off", "amount": 500},
            "stock": quantity})).json()
        r = await client.post("/api/v1/campaigns", json={
            "name": "混沌大转盘", "game": "wheel", "prizes": [
                {"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"],
                 "quantity": quantity, "weight": 1},
                {"name": "20积分", "kind": "points", "points": 20, "quantity": quantity,
                 "weight": 1},
                {"name": "谢谢参与", "kind": "nothing", "weight": 2}]})
        assert r.status_code == 201, r.text
        campaign = r.json()
        r = await client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
        assert r.status_code == 200, r.text
        tokens = await bench.mint_tokens(client, members, "chaos", concurrency=16)
    quantities = {p["id"]: p["quantity"] for p in campaign["prizes"]
                  if p["kind"] != "nothing"}
    return campaign["id"], quantities, list(tokens)


async def draw_once(http: httpx.AsyncClient, path: str, token: str, key: str,
                    tally: Tally) -> Accepted | None:
    """One draw, as a phone makes it: retried with the same key until answered."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    started = time.monotonic()
    for attempt in range(30):
        tally.attempts += 1
        if attempt:
            tally.retried += 1
            await asyncio.sleep(min(2.0, 0.1 * 2 ** min(attempt, 5)))
        try:
            r = await http.post(path, headers=headers)
        except httpx.HTTPError:
            continue
        if r.status_code in (200, 201):
            tally.latencies.append(time.monotonic() - started)
            body = r.json()
            prize = body.get("prize") or {}
            return Accepted(key, token, body["id"], body["outcome"], prize.get("id"), body)
        if r.status_code >= 500 or r.status_code == 409:  # 409: draw_in_progress
            continue
        tally.refused[r.status_code] = tally.refused.get(r.status_code, 0) + 1
        return None
    tally.gave_up += 1
    return None


async def drive(base: str, campaign_id: str, tokens: list[str], rate: float, seconds: float,
                tally: Tally) -> None:
    path = f"/api/v1/campaigns/{campaign_id}/draws"
    # At most this many draws out at once: while the service is slow (a fault), later draws
    # wait here, not in the HTTP client's pool (whose bookkeeping grows with its queue).
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as http:
        tasks: list[asyncio.Task[None]] = []

        async def one() -> None:
            async with in_flight:
                found = await draw_once(http, path, random.choice(tokens),
                                        secrets.token_hex(12), tally)
            if found is not None:
                tally.accepted.append(found)

        started = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) + 1
            while n < due:
                tasks.append(asyncio.create_task(one()))
                n += 1
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)


async def chaos(procs: Processes, redis_url: str, dsn: str, name: str, every: float,
                seconds: float, tally: Tally) -> None:
    actions = ["kill_worker", "flush_redis", "cut_database"]
    started = time.monotonic()
    i = 0
    admin = await asyncpg.connect(dsn)
    redis = Redis.from_url(redis_url)
    try:
        while time.monotonic() - started + every < seconds:
            await asyncio.sleep(every)
            action = actions[i % len(actions)]
            i += 1
            if action == "kill_worker":
                await procs.kill_worker()
            elif action == "flush_redis":
                await redis.flushdb()
            else:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
            tally.events[action] = tally.events.get(action, 0) + 1
    finally:
        await admin.close()
        await redis.aclose()


async def replay(base: str, campaign_id: str, sample: list[Accepted]) -> int:
    """Accepted keys sent again: each must answer with the same draw. Returns mismatches."""
    path = f"/api/v1/campaigns/{campaign_id}/draws"
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as http:
        answers = await asyncio.gather(*[draw_once(http, path, a.token, a.key, Tally())
                                         for a in sample])
    return sum(1 for a, b in zip(sample, answers, strict=True)
               if b is None or b.draw_id != a.draw_id or b.body != a.body)


async def settle(dsn: str, campaign_id: str, wait_seconds: float) -> float:
    conn = await asyncpg.connect(dsn)
    started = time.monotonic()
    try:
        quiet = 0
        while time.monotonic() - started < wait_seconds:
            left = await conn.fetchval(
                "SELECT count(*) FROM draws WHERE campaign_id = $1 AND outcome = 'win' "
                "AND settled_at IS NULL", campaign_id)
            quiet = quiet + 1 if left == 0 else 0
            if quiet >= 3:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return time.monotonic() - started


async def audit(dsn: str, redis_url: str, campaign_id: str, quantities: dict[str, int],
                accepted: list[Accepted]) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        draws = {r["id"]: r for r in await conn.fetch(
            "SELECT id, outcome, prize_id, settled_at, idempotency_key FROM draws "
            "WHERE campaign_id = $1", campaign_id)}
        coupons = await conn.fetch(
            "SELECT draw_id, count(*) AS n FROM coupons WHERE campaign_id = $1 "
            "GROUP BY draw_id", campaign_id)
        credits = await conn.fetch(
            "SELECT ref, count(*) AS n FROM points_ledger WHERE ref LIKE 'draw:%' "
            "GROUP BY ref")
        keys = await conn.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM draws WHERE campaign_id = $1 AND "
            "idempotency_key IS NOT NULL GROUP BY member_id, idempotency_key "
            "HAVING count(*) > 1) d", campaign_id)
        over_stock = await conn.fetchval(
            "SELECT count(*) FROM coupon_templates WHERE issued > stock "
            "OR stock - reserved - issued < 0")
        # draws is partitioned by month: its size is its partitions' (and the claim tables
        # its trigger writes beside each draw).
        row_bytes = await conn.fetchval(
            "SELECT ((SELECT sum(pg_total_relation_size(inhrelid))::bigint FROM pg_inherits "
            "         WHERE inhparent = 'draws'::regclass) "
            "        + pg_total_relation_size('draw_win_seqs') "
            "        + pg_total_relation_size('draw_idempotency_keys')) "
            "       / greatest((SELECT count(*) FROM draws), 1)")
        repairs = await conn.fetch("SELECT kind, count(*) AS n FROM stock_repairs "
                                   "WHERE campaign_id = $1 GROUP BY kind", campaign_id)
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url)
    try:  # the campaign's wins counters (games/draw/protocol.py CampaignKeys.wins)
        counted = {k.decode(): int(v) for k, v in
                   (await redis.hgetall(f"{{c:{campaign_id}}}:wins")).items()}
        # What an Idempotency-Key's record takes, for the capacity plan (kept 48 hours).
        sizes = [await redis.memory_usage(k) or 0
                 async for k in redis.scan_iter(f"{{c:{campaign_id}}}:idem:*", count=500)]
    finally:
        await redis.aclose()
    issued: dict[str, int] = {r["draw_id"]: r["n"] for r in coupons}
    credited: dict[str, int] = {r["ref"].removeprefix("draw:"): r["n"] for r in credits}
    wins = {i: r for i, r in draws.items() if r["outcome"] == "win"}
    kind = {d: "coupon" if d in issued else "points" for d in wins}
    given = {d: issued.get(d, 0) + credited.get(d, 0) for d in wins}
    missing_rows = sum(1 for a in accepted if a.draw_id not in draws)
    changed = sum(1 for a in accepted if a.draw_id in draws
                  and (draws[a.draw_id]["outcome"] != a.outcome
                       or draws[a.draw_id]["prize_id"] != a.prize_id))
    unsettled = sum(1 for d in wins if given[d] == 0)
    extra = sum(n - 1 for n in given.values() if n > 1)
    per_prize: dict[str, int] = {}
    for r in wins.values():
        per_prize[r["prize_id"]] = per_prize.get(r["prize_id"], 0) + 1
    over_quantity = sum(max(0, n - quantities[p]) for p, n in per_prize.items())
    return {"draws": len(draws), "wins": len(wins),
            "coupons": sum(issued.values()),
            "credits": sum(n for d, n in credited.items() if d in wins),
            "coupon_wins": sum(1 for d in wins if kind[d] == "coupon"),
            "missing_rows": missing_rows, "changed": changed, "unsettled": unsettled,
            "extra_issues": extra, "over_quantity": over_quantity, "double_keys": keys,
            "over_stock": over_stock,
            "redis_ahead": sum(max(0, counted.get(p, 0) - per_prize.get(p, 0))
                               for p in quantities),
            "repairs": {r["kind"]: r["n"] for r in repairs},
            "row_bytes": row_bytes, "record_bytes": sum(sizes) // max(1, len(sizes))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=60, help="draws started per second")
    parser.add_argument("--every", type=float, default=5, help="seconds between faults")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=12)
    args = parser.parse_args()
    # Each prize is drawn a quarter of the time: both run out about two thirds into the run.
    quantity = max(10, int(args.rate * args.seconds / 4 * 2 / 3))
    admin = os.environ.get("ENGAGEMENT_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("ENGAGEMENT_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{args.redis_db}"))
    name = f"engagement_chaos_{secrets.token_hex(4)}"
    dsn = bench.with_db(admin, name)

    asyncio.run(bench.admin_sql(admin, f'CREATE DATABASE "{name}"'))
    port = bench.free_port()
    base = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="engagement-chaos-"))
    env = dict(os.environ, ENGAGEMENT_DATABASE_URL=dsn, ENGAGEMENT_REDIS_URL=redis_url,
               ENGAGEMENT_PUBLIC_URL=base, ENGAGEMENT_LOG_LEVEL="WARNING",
               ENGAGEMENT_SECRET_KEY=secrets.token_urlsafe(32),
               ENGAGEMENT_DRAW_RATE_LIMIT="1000000000", ENGAGEMENT_DATA_DIR=str(logs))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    tally = Tally()
    procs: Processes | None = None
    try:
        subprocess.run([*EXE, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True,
                       capture_output=True)
        created = subprocess.run([*EXE, "merchant", "create", "--name", "Chaos"], env=env,
                                 check=True, capture_output=True, text=True)
        api_key = json.loads(created.stdout.strip().splitlines()[-1])["api_key"]
        procs = Processes(env, port, args.web_workers, args.workers, logs)
        bench.wait_ready(base)
        campaign_id, quantities, tokens = asyncio.run(seed(base, api_key, args.members,
                                                           quantity))

        async def run() -> tuple[int, float, dict[str, Any]]:
            await asyncio.gather(
                drive(base, campaign_id, tokens, args.rate, args.seconds, tally),
                chaos(procs, redis_url, dsn, name, args.every, args.seconds, tally))
            sample = random.sample(tally.accepted, min(200, len(tally.accepted)))
            mismatched = await replay(base, campaign_id, sample)
            waited = await settle(dsn, campaign_id, wait_seconds=180)
            return mismatched, waited, await audit(dsn, redis_url, campaign_id, quantities,
                                                   tally.accepted)

        mismatched, waited, found = asyncio.run(run())
    finally:
        if procs is not None:
            procs.stop()
        asyncio.run(bench.admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    lost = found["missing_rows"] + found["changed"] + found["unsettled"]
    duplicated = (found["extra_issues"] + found["over_quantity"] + found["double_keys"]
                  + mismatched + found["over_stock"])
    accepted = len(tally.accepted)
    print(f"\nChaos benchmark: {args.seconds:.0f} s at {args.rate:.0f} draws/s, a fault every "
          f"{args.every:.0f} s, {args.web_workers} web processes, {args.workers} workers, "
          f"{args.members} members, {os.cpu_count()} cores")
    print("  faults            : " + ", ".join(f"{k} {v}" for k, v in tally.events.items()))
    started = accepted + tally.gave_up + sum(tally.refused.values())
    print(f"  draws accepted    : {accepted} of {started} started ({tally.retried} retries, "
          f"{tally.gave_up} never answered, refused {tally.refused or 0})")
    print(f"  answered in       : p50 {bench.percentile(tally.latencies, 50) * 1000:.0f} ms, p99 "
          f"{bench.percentile(tally.latencies, 99) * 1000:.0f} ms, max "
          f"{max(tally.latencies, default=0):.1f} s (retries included)")
    print(f"  in PostgreSQL     : draws {found['draws']}, wins {found['wins']} (quantity "
          f"{quantity} per prize), coupons {found['coupons']}, points credits "
          f"{found['credits']}; settled {waited:.1f} s after the last draw")
    print(f"  sizes             : {found['row_bytes']} bytes of PostgreSQL per draw "
          f"(table and indexes), {found['record_bytes']} bytes of Redis per "
          f"Idempotency-Key record")
    print(f"  replayed keys     : {min(200, accepted)}, answered with another draw: "
          f"{mismatched}")
    print(f"  Redis vs record   : {found['redis_ahead']} wins counted in Redis beyond "
          f"PostgreSQL's at the end (refused wins: stock that will not be won); "
          f"reconciliation repairs {found['repairs'] or 'none'}")
    print(f"  lost              : {lost} (accepted draws missing {found['missing_rows']}, "
          f"answered otherwise {found['changed']}, wins without coupon or credit "
          f"{found['unsettled']})")
    print(f"  duplicated        : {duplicated} (second coupons or credits "
          f"{found['extra_issues']}, wins beyond quantity {found['over_quantity']}, keys "
          f"drawn twice {found['double_keys']}, replays answered otherwise {mismatched}, "
          f"templates over stock {found['over_stock']})")
    print(f"  result            : {'OK' if lost == 0 == duplicated else 'FAILED'}"
          f"   (logs in {logs})")
    return 0 if lost == 0 == duplicated else 1


if __name__ == "__main__":
    sys.exit(main())
