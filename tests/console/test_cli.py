"""`engagement merchant create` can give the merchant a console login."""

from __future__ import annotations

import json

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
