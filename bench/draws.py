"""Draw benchmark: the app and a worker on real servers, wrk driving draws over HTTP.

    .venv/bin/python bench/draws.py [--connections 64] [--seconds 20] [--members 2000]
    .venv/bin/python bench/draws.py --cluster [--campaigns 6]   (see bench/draws_cluster.py)

Needs wrk (Debian: apt-get install wrk) and PostgreSQL and Redis (ENGAGEMENT_DATABASE_URL /
ENGAGEMENT_REDIS_URL, default 127.0.0.1). It creates a scratch database, starts
`engagement serve` and `engagement worker`, seeds a merchant, members and a wheel campaign,
then in one run measures a bare JSON endpoint and the draw endpoint with the same
connections, three ways: plain draws, draws with an Idempotency-Key, and draws as the game
page makes them (a key and a fresh random client seed: the provably fair pick), the last
two taking turns in 10-second slices. It waits
for the worker to drain, and prints throughput, latency, the draw/bare ratio, what client
seeds cost against keyed draws without them, settlement lag and the no-oversell check."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
QUANTITY = 1_000_000  # the coupon prize never runs out during a run: every draw is real work

WRK_SCRIPT = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local n = 0
request = function()
  n = n + 1
  local token = tokens[(n %% #tokens) + 1]
  return wrk.format("POST", "%(path)s", {["Authorization"] = "Bearer " .. token,
                                         ["Content-Type"] = "application/json"}, "")
end
"""

# As the game page draws: a fresh Idempotency-Key per draw and a JSON body, "{}" as the page
# sent before provably fair draws, or a fresh client seed. Both make the same random text,
# so that wrk, which shares the cores, does the same work either way.
WRK_KEYED_SCRIPT = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local n = 0
local seeds = %(seeds)s
local function hex()
  return string.format("%%08x%%08x%%08x%%08x", math.random(0, 0x7fffffff),
    math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end
init = function() math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)) end
request = function()
  n = n + 1
  local token = tokens[(n %% #tokens) + 1]
  local seed = hex()
  local body = seeds and ('{"client_seed":"' .. seed .. '"}') or "{}"
  return wrk.format("POST", "%(path)s", {["Authorization"] = "Bearer " .. token,
                                         ["Content-Type"] = "application/json",
                                         ["Idempotency-Key"] = hex()}, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def admin_sql(admin: str, sql: str) -> None:
    """One statement on the admin database (CREATE / DROP DATABASE of a bench's scratch one)."""
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def wait_ready(base: str, tries: int = 150) -> None:
    """Until ``engagement serve`` at ``base`` answers /readyz (30 s at the most)."""
    for _ in range(tries):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not become ready")


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def run_wrk(url: str, connections: int, seconds: int, script: Path | None) -> dict[str, float]:
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
           "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"),
            "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
            "socket_errors": 1.0 if errors else 0.0}


def _combined(runs: list[dict[str, float]]) -> dict[str, float]:
    """Several equal runs as one: mean throughput, the worst latency percentiles."""
    return {"rps": sum(r["rps"] for r in runs) / len(runs),
            "p50": max(r["p50"] for r in runs), "p99": max(r["p99"] for r in runs),
            "non2xx": sum(r["non2xx"] for r in runs)}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def mint_tokens(client: httpx.AsyncClient, members: int, prefix: str,
                      concurrency: int) -> list[str]:
    """``members`` new members (external ids ``prefix-i``) through the API of ``client``
    (a merchant key's), and a member token for each, ``concurrency`` requests at a time."""
    sem = asyncio.Semaphore(concurrency)

    async def mint(i: int) -> str:
        async with sem:
            m = (await client.post("/api/v1/members",
                                   json={"external_id": f"{prefix}-{i}"})).json()
            t = (await client.post(f"/api/v1/members/{m['id']}/tokens")).json()
            return str(t["token"])

    return list(await asyncio.gather(*[mint(i) for i in range(members)]))


async def seed(base: str, api_key: str, members: int) -> tuple[str, list[str]]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        tpl = (await client.post("/api/v1/coupon-templates", json={
            "name": "压测券", "discount": {"type": "amount_off", "amount": 500},
            "stock": QUANTITY})).json()
        campaign = (await client.post("/api/v1/campaigns", json={
            "name": "压测大转盘", "game": "wheel", "prizes": [
                {"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"],
                 "quantity": QUANTITY, "weight": 1},
                {"name": "谢谢参与", "kind": "nothing", "weight": 3}]})).json()
        r = await client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
        assert r.status_code == 200, r.text
        tokens = await mint_tokens(client, members, "bench", concurrency=32)
    return campaign["id"], list(tokens)


async def settlement(dsn: str, campaign_id: str, wait_seconds: float) -> dict[str, object]:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.monotonic()
        seen = -1
        while time.monotonic() - started < wait_seconds:
            # Drained: nothing unsettled, and no draw still arriving from a slow request.
            row = await conn.fetchrow(
                "SELECT count(*) AS draws, count(*) FILTER (WHERE outcome = 'win' "
                "AND settled_at IS NULL) AS left FROM draws WHERE campaign_id = $1",
                campaign_id)
            if row["left"] == 0 and row["draws"] == seen:
                break
            seen = row["draws"]
            await asyncio.sleep(0.5)
        drained_in = time.monotonic() - started
        lags = [r["lag"] for r in await conn.fetch(
            """SELECT extract(epoch FROM c.issued_at - d.created_at) * 1000 AS lag
               FROM coupons c JOIN draws d ON d.id = c.draw_id WHERE d.campaign_id = $1""",
            campaign_id)]
        counts = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM draws WHERE campaign_id = $1) AS draws,
                      (SELECT count(*) FROM draws WHERE campaign_id = $1
                         AND outcome = 'win') AS wins,
                      (SELECT count(*) FROM coupons WHERE campaign_id = $1) AS coupons,
                      (SELECT count(*) FROM draws WHERE campaign_id = $1
                         AND outcome = 'win' AND settled_at IS NULL) AS unsettled""",
            campaign_id)
        return {"lags": [float(x) for x in lags], "drained_in": drained_in, **dict(counts)}
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--cluster", action="store_true",
                        help="standalone Redis against a local 3-master Redis Cluster "
                             "(bench/draws_cluster.py)")
    parser.add_argument("--campaigns", type=int, default=6,
                        help="with --cluster: campaigns the draws take turns on")
    args = parser.parse_args()
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    if args.cluster:
        from draws_cluster import run_cluster

        return run_cluster(args)
    admin = os.environ.get("ENGAGEMENT_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("ENGAGEMENT_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path="/12"))
    name = f"engagement_bench_{secrets.token_hex(4)}"
    dsn = with_db(admin, name)

    asyncio.run(admin_sql(admin, f'CREATE DATABASE "{name}"'))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, ENGAGEMENT_DATABASE_URL=dsn, ENGAGEMENT_REDIS_URL=redis_url,
               ENGAGEMENT_PUBLIC_URL=base, ENGAGEMENT_LOG_LEVEL="WARNING",
               ENGAGEMENT_SECRET_KEY=secrets.token_urlsafe(32),
               ENGAGEMENT_DRAW_RATE_LIMIT="1000000000",
               ENGAGEMENT_DATA_DIR=tempfile.mkdtemp(prefix="engagement-bench-"))
    exe = [sys.executable, "-m", "engagement.cli"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*exe, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], capture_output=True)
        created = subprocess.run([*exe, "merchant", "create", "--name", "Bench"], env=env,
                                 check=True, capture_output=True, text=True)
        api_key = json.loads(created.stdout.strip().splitlines()[-1])["api_key"]
        procs.append(subprocess.Popen([*exe, "serve", "--port", str(port), "--workers",
                                       str(args.web_workers)], env=env))
        procs.append(subprocess.Popen([*exe, "worker"], env=env))
        wait_ready(base)
        campaign_id, tokens = asyncio.run(seed(base, api_key, args.members))
        with tempfile.TemporaryDirectory() as tmp:
            token_file = Path(tmp) / "tokens.txt"
            token_file.write_text("\n".join(tokens) + "\n")
            path = f"/api/v1/campaigns/{campaign_id}/draws"
            script, keyed_script, seeded_script = (Path(tmp) / name for name in (
                "draw.lua", "keyed.lua", "seeded.lua"))
            script.write_text(WRK_SCRIPT % {"tokens": token_file, "path": path})
            for target, seeds in ((keyed_script, "false"), (seeded_script, "true")):
                target.write_text(WRK_KEYED_SCRIPT % {"tokens": token_file, "path": path,
                                                      "seeds": seeds})
            run_wrk(f"{base}/healthz", args.connections, 3, None)  # warm-up
            bare = run_wrk(f"{base}/healthz", args.connections, args.seconds, None)
            draw = run_wrk(base, args.connections, args.seconds, script)
            # Keyed draws with and without client seeds take turns, so that neither gains
            # from running first (the draws table grows through the run).
            halves = max(1, args.seconds // 2)
            rounds = [(run_wrk(base, args.connections, halves, keyed_script),
                       run_wrk(base, args.connections, halves, seeded_script))
                      for _ in range(2)]
            keyed = _combined([k for k, _ in rounds])
            seeded = _combined([s for _, s in rounds])
        settled = asyncio.run(settlement(dsn, campaign_id, wait_seconds=120))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        asyncio.run(admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    lags: list[float] = settled["lags"]  # type: ignore[assignment]
    ok = (settled["wins"] == settled["coupons"] and int(settled["coupons"]) <= QUANTITY  # type: ignore[call-overload]
          and settled["unsettled"] == 0)
    print(f"\nDraw benchmark: {args.connections} connections, {args.seconds} s each, "
          f"{args.members} members, {args.web_workers} web process(es), {os.cpu_count()} cores "
          f"shared with wrk, PostgreSQL, Redis and the worker")
    print(f"  bare GET /healthz : {bare['rps']:9.0f} req/s   p50 {bare['p50']:6.2f} ms   "
          f"p99 {bare['p99']:6.2f} ms")
    print(f"  POST draws        : {draw['rps']:9.0f} req/s   p50 {draw['p50']:6.2f} ms   "
          f"p99 {draw['p99']:6.2f} ms   non-2xx {draw['non2xx']:.0f}")
    print(f"  keyed draws       : {keyed['rps']:9.0f} req/s   p50 {keyed['p50']:6.2f} ms   "
          f"p99 {keyed['p99']:6.2f} ms   non-2xx {keyed['non2xx']:.0f}   (Idempotency-Key)")
    print(f"  + client seeds    : {seeded['rps']:9.0f} req/s   p50 {seeded['p50']:6.2f} ms   "
          f"p99 {seeded['p99']:6.2f} ms   non-2xx {seeded['non2xx']:.0f}   (as the game page)")
    print(f"  ratio draw/bare   : {draw['rps'] / bare['rps']:.2f}")
    seed_cost = 1 - seeded["rps"] / keyed["rps"]
    print(f"  client seeds cost : {seed_cost:+.1%} draws/s against keyed draws without them")
    print(f"  settlement lag    : p50 {percentile(lags, 50):6.0f} ms   "
          f"p99 {percentile(lags, 99):6.0f} ms   (draw created -> coupon issued, "
          f"{len(lags)} coupons)")
    print(f"  after drain       : draws {settled['draws']}, wins {settled['wins']}, "
          f"coupons {settled['coupons']}, unsettled {settled['unsettled']}, "
          f"quantity {QUANTITY} -> {'OK' if ok else 'MISMATCH'}")
    ratio, lag_p99 = draw["rps"] / bare["rps"], percentile(lags, 99)
    checks = [("draw/bare >= 0.30", ratio >= 0.30), ("draw p99 <= 25 ms", draw["p99"] <= 25),
              ("settlement lag p99 <= 1 s", lag_p99 <= 1000),
              ("client seeds cost <= 10%", seed_cost <= 0.10)]
    print("  targets           : " + ", ".join(
        f"{name} {'met' if met else 'NOT met'}" for name, met in checks))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
