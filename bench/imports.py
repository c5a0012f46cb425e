"""Member import benchmark: a CSV of N members (default 100,000) imported over HTTP into the
app and a worker on real servers, then the same file again.

    .venv/bin/python bench/imports.py [--rows 100000] [--redis-db 12]

Needs PostgreSQL and Redis (ENGAGEMENT_DATABASE_URL / ENGAGEMENT_REDIS_URL, default
127.0.0.1). It creates a scratch database, starts `engagement serve` and `engagement worker`,
creates a merchant, writes the file (external_id, phone, name, birthday, points), POSTs it
to /api/v1/member-imports and polls GET /api/v1/member-imports/{id} until it is done. It
prints the upload time, the total time from the POST to done and the rows per second, for
the first import and for the same file again, and checks the counts: N members, one
`import` ledger entry per member with opening points, balances equal to the file's."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def member_file(rows: int) -> tuple[bytes, int, int]:
    """The file, how many rows carry opening points, and their sum."""
    lines = ["external_id,phone,name,birthday,points"]
    credited = total = 0
    for i in range(rows):
        points = (i * 37) % 500
        credited += points > 0
        total += points
        lines.append(f"OLD{i:07d},13{i % 10}{i:08d},会员{i},"
                     f"{1960 + i % 45}-{1 + i % 12:02d}-{1 + i % 28:02d},{points}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode(), credited, total


async def run_import(base: str, api_key: str, body: bytes) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "text/csv"}
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        started = time.perf_counter()
        r = await client.post("/api/v1/member-imports?filename=bench.csv", content=body,
                              headers=headers)
        assert r.status_code == 202, r.text
        uploaded = time.perf_counter() - started
        import_id = r.json()["id"]
        while True:
            got = (await client.get(f"/api/v1/member-imports/{import_id}",
                                    headers=headers)).json()
            if got["status"] == "done":
                break
            await asyncio.sleep(0.1)
        total = time.perf_counter() - started
    return {**got, "uploaded_s": uploaded, "total_s": total}


async def check(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM members) AS members,
                      (SELECT count(*) FROM points_ledger WHERE reason = 'import') AS entries,
                      (SELECT coalesce(sum(delta), 0) FROM points_ledger) AS ledger,
                      (SELECT coalesce(sum(points), 0) FROM members) AS balances""")
        return dict(row)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--redis-db", type=int, default=12)
    args = parser.parse_args()
    admin = os.environ.get("ENGAGEMENT_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = with_path(os.environ.get("ENGAGEMENT_REDIS_URL", "redis://127.0.0.1:6379/0"),
                          f"/{args.redis_db}")
    name = f"engagement_bench_{secrets.token_hex(4)}"
    dsn = with_path(admin, "/" + name)

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    body, credited, points = member_file(args.rows)
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, ENGAGEMENT_DATABASE_URL=dsn, ENGAGEMENT_REDIS_URL=redis_url,
               ENGAGEMENT_PUBLIC_URL=base, ENGAGEMENT_LOG_LEVEL="WARNING",
               ENGAGEMENT_SECRET_KEY=secrets.token_urlsafe(32),
               ENGAGEMENT_DATA_DIR=tempfile.mkdtemp(prefix="engagement-bench-"))
    exe = [sys.executable, "-m", "engagement.cli"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*exe, "migrate"], env=env, check=True, capture_output=True)
        created = subprocess.run([*exe, "merchant", "create", "--name", "Bench"], env=env,
                                 check=True, capture_output=True, text=True)
        api_key = json.loads(created.stdout.strip().splitlines()[-1])["api_key"]
        procs.append(subprocess.Popen([*exe, "serve", "--port", str(port), "--workers", "1"],
                                      env=env))
        procs.append(subprocess.Popen([*exe, "worker"], env=env))
        for _ in range(150):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        first = asyncio.run(run_import(base, api_key, body))
        after_first = asyncio.run(check(dsn))
        again = asyncio.run(run_import(base, api_key, body))
        after_again = asyncio.run(check(dsn))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    print(f"\nMember import benchmark: {args.rows} rows ({len(body) / 1024 / 1024:.1f} MiB), "
          f"one web process and one worker, {os.cpu_count()} cores shared with PostgreSQL "
          f"and Redis")
    for label, run in (("first import", first), ("same file again", again)):
        print(f"  {label:16}: upload {run['uploaded_s']:5.2f} s, done after "
              f"{run['total_s']:6.2f} s = {args.rows / run['total_s']:8.0f} rows/s   "
              f"created {run['created']}, updated {run['updated']}, "
              f"unchanged {run['unchanged']}, failed {run['failed']}")
    ok = (first["created"] == args.rows and again["created"] == 0
          and again["unchanged"] == args.rows
          and after_first == after_again
          and after_first["members"] == args.rows and after_first["entries"] == credited
          and after_first["ledger"] == points == after_first["balances"])
    print(f"  checks          : {after_again['members']} members, {after_again['entries']} "
          f"import entries (expected {credited}), points {after_again['balances']} "
          f"(expected {points}) -> {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
