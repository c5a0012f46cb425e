"""`bench/draws.py --cluster`: draws/s with campaigns' hot state on a local 3-master Redis
Cluster against the standalone Redis, in one run.

Both deployments run side by side on the same scratch database: one `engagement serve` and
one `engagement worker` on the standalone Redis, and the same pair with
ENGAGEMENT_REDIS_CLUSTER_URL pointing at a cluster started here (engagement/kit/
local_cluster.py, stopped at the end). Each seeds its own campaigns (several, so that the
cluster's campaigns sit on more than one master) and members; wrk then measures both, in
turns of 10-second slices so that neither gains from running first: plain draws, and
draws as the game page makes them (an Idempotency-Key and a random client seed). After the
worker drained, wins must equal coupons for every campaign of both."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import draws as bench

from engagement.kit.local_cluster import LocalCluster
from games.draw.protocol import CampaignKeys

# One request's campaign is picked by the request count, the member by the same count.
WRK_PATHS = """
local paths = {%(paths)s}
local function path(n) return paths[(n %% #paths) + 1] end
"""


def _wrk_script(tokens: Path, paths: list[str], keyed: bool) -> str:
    """draws.py's wrk scripts, each request to the next of several campaigns."""
    template = bench.WRK_KEYED_SCRIPT if keyed else bench.WRK_SCRIPT
    text = template % {"tokens": tokens, "path": "%(path)s", "seeds": "true"}
    text = text.replace('"%(path)s"', "path(n)")
    quoted = ", ".join(json.dumps(p) for p in paths)
    return WRK_PATHS % {"paths": quoted} + text


async def _seed(base: str, api_key: str, members: int, campaigns: int
                ) -> tuple[list[str], list[str]]:
    ids, tokens = [], []
    for i in range(campaigns):
        # The first campaign's members draw in every campaign: tokens are per merchant.
        campaign_id, minted = await bench.seed(base, api_key, members if i == 0 else 0)
        ids.append(campaign_id)
        tokens += minted
    return ids, tokens


def _owners(cluster: LocalCluster, campaign_ids: list[str]) -> set[int]:
    """The masters holding the campaigns' keys (a node not serving a slot counts 0 in it)."""
    first = cluster.node(cluster.ports[0])
    slots = {first.cluster("KEYSLOT", CampaignKeys.of(c).tag) for c in campaign_ids}
    return {p for p in cluster.ports for slot in slots
            if cluster.node(p).cluster("COUNTKEYSINSLOT", slot)}


def run_cluster(args: argparse.Namespace) -> int:
    admin = os.environ.get("ENGAGEMENT_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("ENGAGEMENT_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path="/12"))
    name = f"engagement_bench_{secrets.token_hex(4)}"
    dsn = bench.with_db(admin, name)

    asyncio.run(bench.admin_sql(admin, f'CREATE DATABASE "{name}"'))
    exe = [sys.executable, "-m", "engagement.cli"]
    procs: list[subprocess.Popen[bytes]] = []
    cluster = LocalCluster(masters=3)
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    checks: dict[str, list[dict[str, object]]] = {}
    try:
        cluster.start()
        env = dict(os.environ, ENGAGEMENT_DATABASE_URL=dsn, ENGAGEMENT_REDIS_URL=redis_url,
                   ENGAGEMENT_LOG_LEVEL="WARNING",
                   ENGAGEMENT_SECRET_KEY=secrets.token_urlsafe(32),
                   ENGAGEMENT_DRAW_RATE_LIMIT="1000000000",
                   # Two deployments on one PostgreSQL: half the usual pools each.
                   ENGAGEMENT_DB_POOL_MAX="10", ENGAGEMENT_WORKER_MAX_JOBS="10",
                   ENGAGEMENT_DATA_DIR=tempfile.mkdtemp(prefix="engagement-bench-"))
        env.pop("ENGAGEMENT_REDIS_CLUSTER_URL", None)
        subprocess.run([*exe, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], capture_output=True)
        deployments: dict[str, tuple[str, list[str], list[str]]] = {}
        for label, extra in (("standalone", {}),
                             ("cluster", {"ENGAGEMENT_REDIS_CLUSTER_URL": cluster.url})):
            port = bench.free_port()
            base = f"http://127.0.0.1:{port}"
            own = dict(env, ENGAGEMENT_PUBLIC_URL=base, **extra)
            created = subprocess.run([*exe, "merchant", "create", "--name", f"Bench {label}"],
                                     env=own, check=True, capture_output=True, text=True)
            api_key = json.loads(created.stdout.strip().splitlines()[-1])["api_key"]
            procs.append(subprocess.Popen([*exe, "serve", "--port", str(port), "--workers",
                                           str(args.web_workers)], env=own))
            procs.append(subprocess.Popen([*exe, "worker"], env=own))
            bench.wait_ready(base)
            campaign_ids, tokens = asyncio.run(_seed(base, api_key, args.members,
                                                     args.campaigns))
            deployments[label] = (base, campaign_ids, tokens)
        with tempfile.TemporaryDirectory() as tmp:
            scripts: dict[tuple[str, str], Path] = {}
            for label, (_base, campaign_ids, tokens) in deployments.items():
                token_file = Path(tmp) / f"{label}.tokens"
                token_file.write_text("\n".join(tokens) + "\n")
                paths = [f"/api/v1/campaigns/{c}/draws" for c in campaign_ids]
                for kind, keyed in (("plain", False), ("game page", True)):
                    script = Path(tmp) / f"{label}-{kind.replace(' ', '-')}.lua"
                    script.write_text(_wrk_script(token_file, paths, keyed))
                    scripts[label, kind] = script
            for label, (base, _, _) in deployments.items():  # warm-up
                bench.run_wrk(base, args.connections, 3, scripts[label, "plain"])
            slices = max(1, args.seconds // 10)
            for _ in range(slices):
                for kind in ("plain", "game page"):
                    for label, (base, _, _) in deployments.items():
                        run = bench.run_wrk(base, args.connections, args.seconds // slices,
                                            scripts[label, kind])
                        results.setdefault(label, {}).setdefault(kind, []).append(run)
        for label, (_, campaign_ids, _) in deployments.items():
            checks[label] = [asyncio.run(bench.settlement(dsn, c, wait_seconds=120))
                             for c in campaign_ids]
        masters = len(_owners(cluster, deployments["cluster"][1]))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        cluster.stop()
        asyncio.run(bench.admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    print(f"\nDraw benchmark, standalone Redis against a local 3-master Redis Cluster: "
          f"{args.connections} connections, {args.seconds} s per phase and deployment (in "
          f"10 s turns), {args.members} members, {args.campaigns} campaigns (on {masters} "
          f"of 3 masters), {args.web_workers} web process(es) each, {os.cpu_count()} cores "
          f"shared with wrk, PostgreSQL, both Redis and the workers")
    ok = True
    for kind in ("plain", "game page"):
        combined = {label: bench._combined(runs[kind]) for label, runs in results.items()}
        for label, run in combined.items():
            print(f"  {kind:9} {label:10}: {run['rps']:8.0f} draws/s   p50 {run['p50']:6.2f} ms"
                  f"   p99 {run['p99']:6.2f} ms   non-2xx {run['non2xx']:.0f}")
        ratio = combined["cluster"]["rps"] / combined["standalone"]["rps"]
        print(f"  {kind:9} cluster/standalone: {ratio:.2f}")
    for label, settled in checks.items():
        wins = sum(int(s["wins"]) for s in settled)  # type: ignore[call-overload]
        coupons = sum(int(s["coupons"]) for s in settled)  # type: ignore[call-overload]
        unsettled = sum(int(s["unsettled"]) for s in settled)  # type: ignore[call-overload]
        good = wins == coupons and unsettled == 0
        ok = ok and good
        print(f"  after drain, {label:10}: wins {wins}, coupons {coupons}, unsettled "
              f"{unsettled} -> {'OK' if good else 'MISMATCH'}")
    return 0 if ok else 1
