"""The check-in program's PUT and GET (bad input is a 422 that changes nothing), and the
CheckedIn event inside the check-in's transaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from engagement import domains
from engagement.kit import hooks
from engagement.kit.state import Services
from tests.factories import Factory
from tests.loyalty.checkin_helpers import WEEK, check_in, set_check_in


async def test_a_put_replaces_the_program_and_a_get_reads_it(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    never = await client.get("/api/v1/check-in-program", headers=shop.headers)
    assert never.status_code == 200
    assert never.json() == {"enabled": False, "rewards": [], "updated_at": None}
    saved = await set_check_in(client, shop)
    assert saved["enabled"] is True and saved["updated_at"] == "2026-11-23T04:00:00Z"
    assert saved["rewards"][0] == {"day": 1, "points": 5, "draws": 0}
    assert saved["rewards"][6] == {"day": 7, "points": 20, "draws": 1}
    shorter = await set_check_in(client, shop, [{"day": 2, "draws": 3}, {"day": 1}])
    assert shorter["rewards"] == [{"day": 1, "points": 0, "draws": 0},
                                  {"day": 2, "points": 0, "draws": 3}]
    got = await client.get("/api/v1/check-in-program", headers=shop.headers)
    assert got.json() == shorter
    # Off keeps its rewards, and may list none.
    off = await set_check_in(client, shop, [], enabled=False)
    assert (off["enabled"], off["rewards"]) == (False, [])


def _week(**change: Any) -> list[dict[str, Any]]:
    return [{**WEEK[0], **change}, *WEEK[1:]]


BAD_BODIES: list[tuple[str, Any]] = [
    ("no enabled", {"rewards": WEEK}),
    ("no rewards", {"enabled": True}),
    ("enabled as text", {"enabled": "true", "rewards": WEEK}),
    ("enabled with no days", {"enabled": True, "rewards": []}),
    ("a gap in the days", {"enabled": True, "rewards": [{"day": 1}, {"day": 3}]}),
    ("a day twice", {"enabled": True, "rewards": [{"day": 1}, {"day": 1}]}),
    ("not starting at 1", {"enabled": True, "rewards": [{"day": 2}]}),
    ("day 0", {"enabled": True, "rewards": [{"day": 0}]}),
    ("day 32", {"enabled": True, "rewards": [{"day": n} for n in range(1, 33)]}),
    ("no day", {"enabled": True, "rewards": [{"points": 5}]}),
    ("negative points", {"enabled": True, "rewards": _week(points=-1)}),
    ("points as text", {"enabled": True, "rewards": _week(points="10")}),
    ("points as a float", {"enabled": True, "rewards": _week(points=10.0)}),
    ("draws as a bool", {"enabled": True, "rewards": _week(draws=True)}),
    ("too many points", {"enabled": True, "rewards": _week(points=1_000_001)}),
    ("too many draws", {"enabled": True, "rewards": _week(draws=101)}),
    ("an unknown field", {"enabled": True, "rewards": _week(coupon="x")}),
    ("an unknown top field", {"enabled": True, "rewards": WEEK, "cycle": "repeat"}),
    ("rewards not a list", {"enabled": True, "rewards": {"day": 1}}),
    ("a body that is a list", [{"enabled": True}]),
]


@pytest.mark.parametrize(("why", "body"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_bad_program_input_is_422_and_changes_nothing(
        client: httpx.AsyncClient, factory: Factory, why: str, body: Any) -> None:
    shop = await factory.merchant()
    before = await set_check_in(client, shop, [{"day": 1, "points": 3}])
    r = await client.put("/api/v1/check-in-program", headers=shop.headers, json=body)
    assert r.status_code == 422, (why, r.text)
    assert r.json()["error"]["code"] == "validation_error"
    after = await client.get("/api/v1/check-in-program", headers=shop.headers)
    assert after.json() == before


async def test_the_event_is_emitted_inside_the_check_ins_transaction(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await set_check_in(client, shop, [{"day": 1, "points": 8, "draws": 2}])
    member = await factory.member(shop)
    heard: list[tuple[hooks.CheckedIn, int]] = []
    fail = False

    async def listener(conn: Any, event: hooks.CheckedIn) -> None:
        # On the check-in's own connection: its row is visible before the commit.
        seen = await conn.fetchval("SELECT count(*) FROM check_ins WHERE id = $1",
                                   event.check_in_id)
        heard.append((event, seen))
        if fail:
            raise RuntimeError("a listener failed")

    hooks.install([*(pair for d in domains.DOMAINS for pair in d.listeners),
                   (hooks.CheckedIn, listener)])
    try:
        fail = True
        with pytest.raises(RuntimeError):
            await check_in(client, member)
        # The listener's failure rolled the check-in back: no row, no points.
        assert await services.pool.fetchval("SELECT count(*) FROM check_ins") == 0
        assert await services.pool.fetchval("SELECT count(*) FROM points_ledger") == 0
        fail = False
        made = (await check_in(client, member)).json()
    finally:
        domains.install()
    event, seen = heard[-1]
    assert seen == 1
    assert event == hooks.CheckedIn(
        merchant_id=shop.id, member_id=member.id, check_in_id=made["id"],
        day=event.day, streak=1, draws=2, created_at=event.created_at)
    assert (event.day.isoformat(), event.created_at.isoformat()) == \
        (made["date"], "2026-11-23T04:00:00+00:00")
    assert len(heard) == 2  # the failed attempt was heard too, then undone
