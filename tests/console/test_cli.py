"""`engagement merchant create` can give the merchant a console login, and
`engagement staff create` adds the logins of its staff."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from engagement.kit.config import Settings
from tests.console.helpers import HTML, login
from tests.engagement.test_cli import run_cli


async def test_merchant_create_with_a_console_login(settings: Settings,
                                                    client: httpx.AsyncClient) -> None:
    out = run_cli(settings, "merchant", "create", "--name", "茶饮小店", "--email",
                  "Boss@Tea.example", "--password", "long enough password")
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(created) == {"id", "slug", "api_key"}
    r = await login(client, "boss@tea.example", "long enough password")
    assert r.status_code == 303
    assert "茶饮小店" in (await client.get("/console/coupons", headers=HTML)).text
    again = run_cli(settings, "merchant", "create", "--name", "Other", "--email",
                    "boss@tea.example", "--password", "long enough password")
    assert again.returncode != 0 and "email_taken" in again.stderr
    short = run_cli(settings, "merchant", "create", "--name", "Other", "--email",
                    "x@tea.example", "--password", "short")
    assert short.returncode != 0


async def test_staff_create_adds_a_login_of_each_role(settings: Settings,
                                                       client: httpx.AsyncClient) -> None:
    shop = run_cli(settings, "merchant", "create", "--name", "拾光咖啡", "--slug", "shiguang")
    assert shop.returncode == 0, shop.stderr
    key = json.loads(shop.stdout.strip().splitlines()[-1])["api_key"]
    store = await client.post("/api/v1/stores", json={"name": "人民路店"},
                              headers={"Authorization": f"Bearer {key}"})
    store_id = store.json()["id"]
    out = run_cli(settings, "staff", "create", "--merchant", "shiguang", "--email",
                  "Cashier@Shiguang.example", "--role", "cashier", "--store", store_id,
                  "--password", "long enough password")
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(created) == {"id", "email", "role"}
    assert created["email"] == "cashier@shiguang.example" and created["role"] == "cashier"
    r = await login(client, "cashier@shiguang.example", "long enough password")
    assert r.status_code == 303 and r.headers["location"] == "/till"
    # Each refusal: exit code 2 and one line that says why, never a traceback.
    refusals = [
        (["--merchant", "nobody", "--email", "x@shiguang.example", "--role", "manager"],
         "unknown_merchant"),
        (["--merchant", "shiguang", "--email", "x@shiguang.example", "--role", "manager",
          "--store", "sto_unknown"], "unknown_store"),
        (["--merchant", "shiguang", "--email", "cashier@shiguang.example", "--role",
          "manager"], "email_taken"),
        (["--merchant", "shiguang", "--email", "x@shiguang.example", "--role", "boss"],
         "invalid choice: 'boss'"),
        (["--merchant", "shiguang", "--email", "not-an-email", "--role", "manager"],
         "validation_error: email"),
    ]
    for args, message in refusals:
        bad = run_cli(settings, "staff", "create", *args, "--password", "long enough password")
        assert bad.returncode == 2, (args, bad.stdout, bad.stderr)
        assert message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
        assert bad.stdout.strip() == ""
    short = run_cli(settings, "staff", "create", "--merchant", "shiguang", "--email",
                    "x@shiguang.example", "--role", "manager", "--password", "short")
    assert short.returncode == 2 and "validation_error: password" in short.stderr
    client.cookies.clear()
    r = await login(client, "x@shiguang.example", "long enough password")
    assert r.status_code == 401  # none of them was created


def _run_with_input(settings: Settings, text: str, *args: str
                    ) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ENGAGEMENT_DATABASE_URL=settings.database_url or "",
               ENGAGEMENT_REDIS_URL=settings.redis_url or "",
               ENGAGEMENT_DATA_DIR=str(settings.data_dir))
    return subprocess.run([sys.executable, "-m", "engagement.cli", *args], env=env,
                          input=text, capture_output=True, text=True, timeout=120,
                          check=False)


async def test_staff_create_asks_for_the_password_when_none_is_given(
        settings: Settings, client: httpx.AsyncClient) -> None:
    assert run_cli(settings, "merchant", "create", "--name", "店", "--slug",
                   "dian").returncode == 0
    # No terminal here: getpass reads the line from standard input instead.
    out = _run_with_input(settings, "typed at the prompt\n", "staff", "create",
                          "--merchant", "dian", "--email", "m@dian.example", "--role",
                          "manager")
    assert out.returncode == 0, out.stderr
    assert "Console password:" in out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["role"] == "manager"
    assert (await login(client, "m@dian.example", "typed at the prompt")).status_code == 303
