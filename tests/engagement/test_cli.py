"""The command line against the test servers, as an operator would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from engagement.kit.config import Settings


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ENGAGEMENT_DATABASE_URL=settings.database_url or "",
               ENGAGEMENT_REDIS_URL=settings.redis_url or "",
               ENGAGEMENT_DATA_DIR=str(settings.data_dir),
               ENGAGEMENT_PUBLIC_URL="http://testserver")
    return subprocess.run([sys.executable, "-m", "engagement.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


async def test_merchant_create_prints_key_once_that_works(
        settings: Settings, client: httpx.AsyncClient) -> None:
    out = run_cli(settings, "merchant", "create", "--name", "茶饮小店", "--slug", "tea-shop")
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(created) == {"id", "slug", "api_key"}
    assert created["slug"] == "tea-shop"
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    r = await client.post("/api/v1/members", json={"external_id": "m1"}, headers=headers)
    assert r.status_code == 201
    again = run_cli(settings, "merchant", "create", "--name", "Other", "--slug", "tea-shop")
    assert again.returncode != 0


async def test_demo_seeds_members_with_working_entry_links(
        settings: Settings, client: httpx.AsyncClient) -> None:
    out = run_cli(settings, "demo")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    entry = next(line.split()[-1] for line in lines if "/m/enter?token=" in line)
    landed = await client.get(entry.replace("http://testserver", ""), follow_redirects=True)
    assert landed.status_code == 200 and "演示咖啡馆" in landed.text
    key = next(line.split()[-1] for line in lines if line.startswith("API key"))
    plays = [line.split()[-1] for line in lines if "/play/cmp_" in line]
    assert len(plays) == 3
    for play in plays:
        got = await client.get(f"/api/v1/campaigns/{play.rsplit('/', 1)[-1]}",
                               headers={"Authorization": f"Bearer {key}"})
        assert got.json()["status"] == "active"
    games = {line.split()[0] for line in lines if "/play/cmp_" in line}
    assert games == {"wheel", "scratch", "egg"}
    password = _console_password(lines)
    assert await _console_login(client, password) == 303
    again = run_cli(settings, "demo")  # reuses what exists
    assert again.returncode == 0, again.stderr
    assert [line.split()[-1] for line in again.stdout.splitlines() if "/play/" in line] == plays
    # The console password is replaced, like the API key: only the new one signs in.
    fresh = _console_password(again.stdout.splitlines())
    assert fresh != password
    assert await _console_login(client, password) == 401
    assert await _console_login(client, fresh) == 303


def _console_password(lines: list[str]) -> str:
    line = next(line for line in lines if line.startswith("Console: "))
    assert "/console" in line and "demo@example.com" in line
    return line.split()[-1]


async def _console_login(client: httpx.AsyncClient, password: str) -> int:
    from tests.console.helpers import login

    client.cookies.clear()
    return (await login(client, "demo@example.com", password)).status_code
