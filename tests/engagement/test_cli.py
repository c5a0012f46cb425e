"""The command line against the test servers, as an operator would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import httpx

from engagement.kit.clock import FrozenClock
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
    assert len(plays) == 6
    for play in plays:
        got = await client.get(f"/api/v1/campaigns/{play.rsplit('/', 1)[-1]}",
                               headers={"Authorization": f"Bearer {key}"})
        assert got.json()["status"] == "active"
    games = {line.split()[0] for line in lines if "/play/cmp_" in line}
    assert games == {"wheel", "scratch", "egg", "grid", "slot", "shake"}
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


async def test_demo_opens_the_till_with_a_cashier_and_a_usable_coupon(
        settings: Settings, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    from tests.console.helpers import login


    out = run_cli(settings, "demo")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    till = next(line for line in lines if line.startswith("Till"))
    assert "http://testserver/till" in till and "cashier@example.com" in till
    hint = lines[lines.index(till) + 1]
    phone = hint.split("by phone ")[1].split()[0]
    code = hint.split("coupon ")[1].split()[0]
    key = next(line.split()[-1] for line in lines if line.startswith("API key"))
    headers = {"Authorization": f"Bearer {key}"}
    clock.at = datetime.now(UTC)  # the demo issued its coupon by the real clock
    # The printed coupon is the printed member's, and the till would price it.
    quote = await client.post("/api/v1/orders/quote", headers=headers, json={
        "phone": phone, "subtotal": 12_850, "coupon_codes": [code]})
    assert quote.status_code == 200, quote.text
    assert (quote.json()["discount"], quote.json()["amount"]) == (2000, 10_850)
    client.cookies.clear()
    signed_in = await login(client, "cashier@example.com", till.split()[-1])
    assert signed_in.status_code == 303
    # The demo earns points, so the till's receipt has some to show: 1 per ¥1 paid.
    program = await client.get("/api/v1/points-program", headers=headers)
    assert program.json()["earn"] == {"per_amount": 100, "points": 1}
    # Run again: the same store, cashier and (still unused) coupon.
    again = run_cli(settings, "demo").stdout.splitlines()
    assert next(line for line in again if "coupon " in line).split("coupon ")[1].split()[0] \
        == code


async def test_demo_seeds_stored_value_and_a_paid_membership_plan_once(
        settings: Settings, client: httpx.AsyncClient) -> None:
    for _ in range(2):  # a rerun keeps the plans and credits nothing twice
        out = run_cli(settings, "demo")
        assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    key = next(line.split()[-1] for line in lines if line.startswith("API key"))
    headers = {"Authorization": f"Bearer {key}"}
    plans = (await client.get("/api/v1/top-up-plans", headers=headers)).json()
    assert [(p["pay"], p["bonus"]) for p in plans["plans"]] == [
        (20000, 1000), (50000, 5000), (100000, 15000)]
    cards = (await client.get("/api/v1/membership-plans", headers=headers)).json()["plans"]
    assert [(p["name"], p["price"], p["discount_percent"]) for p in cards] == [
        ("黑金年卡", 19900, 10)]
    assert cards[0]["monthly_coupon_template_id"]
    member_id = next(line.split()[1] for line in lines if "/m/enter?token=" in line)
    balance = (await client.get(f"/api/v1/members/{member_id}/balance",
                                headers=headers)).json()
    assert (balance["principal"], balance["bonus"], len(balance["items"])) == (50000, 5000, 1)
    assert any("a balance of ¥550.00" in line for line in lines)
