"""``engagement demo`` seeds a referral program, share links and a referred friend's order."""

from __future__ import annotations

import httpx

from engagement.demo import seed_demo
from engagement.kit.config import Settings
from engagement.kit.state import Services
from referrals import demo


async def test_demo_seeds_share_links_and_a_commission(settings: Settings, services: Services,
                                                       client: httpx.AsyncClient) -> None:
    for _ in range(2):  # running it again reuses what exists
        out = await seed_demo(settings, [demo.seed])
    links = [line.split()[-1] for line in out.splitlines() if "/r/" in line]
    assert len(links) == 3
    page = await client.get(links[0].replace("http://testserver", ""),
                            headers={"Accept": "text/html"})
    assert page.status_code == 200 and "好友专享" in page.text
    pool = services.pool
    assert await pool.fetchval("SELECT count(*) FROM orders") == 1
    assert await pool.fetchval("SELECT count(*) FROM referral_bindings") == 1
    assert await pool.fetchval(
        "SELECT sum(amount) FROM commission_entries WHERE level = 1") == 880
