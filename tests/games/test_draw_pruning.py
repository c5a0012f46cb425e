"""The queries that matter read only the partitions that can hold their rows (EXPLAIN
ANALYZE of each, with months before the campaign's holding other campaigns' draws).

Bounds: a campaign's queries carry created_at >= its publish less a day (no draw of a
campaign is older: games/draw/queries.py ``_since``); a day's counts the UTC days around the
local days; settling and an Idempotency-Key's draw the draws' own created_at. A member's
recent draws across campaigns have no sound bound (members.created_at is the database's
clock, draws' the application's), nor have all campaigns' unsettled wins: they read each
month's index, one page where a month holds none of theirs."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import asyncpg

from engagement.kit.ids import id_floor
from engagement.kit.state import Services
from games.chances import queries as chance_queries
from games.draw import queries
from games.partitions import service as partitions
from tests.factories import Factory
from tests.games.partition_helpers import Explaining, draws, game

JAN, FEB, MAR = "draws_p202101", "draws_p202102", "draws_p202103"
PUBLISHED = datetime(2021, 3, 5, 9, tzinfo=UTC)
AT = datetime(2021, 3, 10, 12, tzinfo=UTC)


async def test_the_queries_that_matter_prune_the_months_before(
        factory: Factory, services: Services) -> None:
    async with services.pool.acquire() as conn:
        for month in (1, 2, 3):
            await partitions.ensure_month(cast(asyncpg.Connection, conn),
                                          datetime(2021, month, 1, tzinfo=UTC))
    other = await game(factory, services, published_at=datetime(2021, 1, 2, tzinfo=UTC))
    await draws(services, other, datetime(2021, 1, 20, tzinfo=UTC), n=20, wins=3,
                settled=False)
    await draws(services, other, datetime(2021, 2, 20, tzinfo=UTC), n=20, wins=3,
                settled=False)
    g = await game(factory, services, published_at=PUBLISHED)
    await draws(services, g, AT, n=4, wins=4, settled=False, key="tap")
    await asyncio.sleep(0.002)  # ids are time-ordered by the millisecond: loses come after
    await draws(services, g, AT + timedelta(seconds=1), n=6)
    cid, mid = g.campaign_id, g.member.id

    pool = services.pool
    async with pool.acquire() as raw, raw.transaction():
        ex = Explaining(cast(asyncpg.Connection, raw))
        db = cast(Any, ex)

        def only_march_on() -> set[str]:
            scanned = ex.scanned()
            assert MAR in scanned and not {JAN, FEB} & scanned, ex.plans[-1]
            return scanned

        assert sum((await queries.win_counts(db, cid)).values()) == 4
        only_march_on()
        assert (await queries.draw_totals(db, cid))["draws"] == 10
        only_march_on()
        assert len(await queries.member_total_counts(db, cid)) == 1
        only_march_on()
        assert await queries.unsettled_count(db, cid) == 4
        only_march_on()
        assert len(await queries.draws_for_export(db, cid, None, 100)) == 10
        only_march_on()
        assert await queries.loses_since_last_win(db, cid, mid) == 6
        only_march_on()
        assert len(await queries.member_draws_of_campaign(db, cid, mid, 50)) == 10
        only_march_on()
        assert (await queries.member_draw_counts_for(db, cid, mid, AT.date()))["total"] == 10
        only_march_on()
        assert await chance_queries.balance(db, cid, mid) == (0, 0)
        only_march_on()
        # The dashboard's window, from its own created_at bound.
        since = AT - timedelta(hours=1)
        buckets = await queries.draw_buckets(db, cid, id_floor("drw", 0), since, 3600,
                                             since)
        assert sum(r["draws"] for r in buckets) == 10
        only_march_on()
        # Bounded on both sides: March alone.
        counts = await queries.member_draw_counts(db, cid, [date(2021, 3, 9), AT.date()])
        assert [r["n"] for r in counts] == [10]
        assert ex.scanned() == {MAR}
        assert await queries.draw_by_idempotency_key(db, cid, mid, "tap") is not None
        assert ex.scanned() == {MAR}
        # Settlement: its batch of unsettled wins, then marking them settled.
        wins = await queries.lock_unsettled_wins(db, cid, 100)
        assert len(wins) == 4
        only_march_on()
        await queries.mark_settled(db, [(w["id"], w["created_at"]) for w in wins], AT)
        assert ex.scanned() == {MAR}
