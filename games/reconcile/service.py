"""Stock reconciliation: each live campaign's Redis counters against PostgreSQL's wins.

Redis decides draws; PostgreSQL records them, and its record is what Redis is rebuilt from
(games/draw/hot_state.py). The two should agree, give or take the draws in flight: a draw
counts its win in Redis first, and its row commits milliseconds later. What the run does:

- Hot state missing (Redis lost it, or a key was evicted): rebuilt from PostgreSQL, as the
  next draw would have done (``hot_state.prime``).
- Redis counts fewer wins of a prize than PostgreSQL holds (it lost or was set back): the
  counter is raised to PostgreSQL's count, in one script that raises it only while it is
  still below (lua/repair.lua). Draws in flight only ever add to the counter before their
  rows commit, so a counter below the committed count is never correct, and raising it
  hands no win out: it can only stop one. A quantity missing in Redis or not PostgreSQL's
  (a patch that never landed) is set to PostgreSQL's while it still holds the value read.
- Redis counts more wins than PostgreSQL holds: flagged, never repaired. Draws in flight
  look like this, so the count is taken twice, before and after a grace period
  (``reconcile_grace_seconds``), and PostgreSQL's in between; the smaller Redis count is
  compared. What remains has outlived the grace: a write stuck longer than that, or wins
  Redis handed out that PostgreSQL refused (their sequence numbers were taken after Redis
  lost its state: the prize will end with fewer wins than its quantity), or a changed key.
  Lowering the counter could hand a sequence number out twice; PostgreSQL would refuse
  the second, but the operator decides (README, Operations).

Every prize's measurement is kept in ``stock_drift`` (what /metrics reports as
``engagement_stock_drift`` and the dashboard warns about), every repair in
``stock_repairs``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from engagement.kit import metrics
from engagement.kit.db import transaction
from engagement.kit.state import Services
from games.draw import hot_state
from games.draw import scripts as draw_scripts
from games.draw.protocol import CampaignKeys
from games.reconcile import queries
from games.reconcile.queries import Measurement, Repair
from games.reconcile.scripts import Counters, scripts_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    campaigns: int
    reprimed: int
    repaired: int  # wins counters raised and quantities set
    flagged: int  # prizes whose Redis count is ahead


async def reconcile(svc: Services) -> Report:
    live = await queries.live_campaigns(svc.pool)
    scripts = scripts_for(svc)
    before = {c["id"]: await scripts.counters(c["id"]) for c in live}
    await asyncio.sleep(svc.settings.reconcile_grace_seconds)
    prizes: dict[str, list[asyncpg.Record]] = {c["id"]: [] for c in live}
    for prize in await queries.recorded_wins(svc.pool, list(prizes)):
        prizes[prize["campaign_id"]].append(prize)
    measured: list[Measurement] = []
    repairs: list[Repair] = []
    for campaign in live:
        measured += await _campaign(svc, campaign, before[campaign["id"]],
                                    prizes[campaign["id"]], repairs)
    now = svc.clock.now()
    async with transaction(svc.pool) as conn:
        await queries.record_measurements(conn, measured, now)
        await queries.forget_unless_live(conn, [c["id"] for c in live])
        await queries.add_repairs(conn, repairs, now)
    for repair in repairs:
        metrics.STOCK_REPAIRS.labels(repair.kind).inc()
        log.warning("reconciliation repaired %s of %s (prize %s): Redis had %s, PostgreSQL "
                    "%s", repair.kind, repair.campaign_id, repair.prize_id,
                    repair.redis_value, repair.recorded)
    flagged = [m for m in measured if m.redis_wins > m.recorded_wins]
    for m in flagged:
        log.warning("stock drift in %s (prize %s): Redis counts %d wins, PostgreSQL holds %d",
                    m.campaign_id, m.prize_id, m.redis_wins, m.recorded_wins)
    return Report(campaigns=len(live),
                  reprimed=sum(r.kind == "reprimed" for r in repairs),
                  repaired=sum(r.kind != "reprimed" for r in repairs), flagged=len(flagged))


async def _campaign(svc: Services, campaign: asyncpg.Record, before: Counters,
                    prizes: list[asyncpg.Record], repairs: list[Repair]) -> list[Measurement]:
    scripts = scripts_for(svc)
    campaign_id, merchant_id = campaign["id"], campaign["merchant_id"]
    after = await scripts.counters(campaign_id)
    if not after.primed:
        await hot_state.prime(svc.pool, svc.hot, draw_scripts.scripts_for(svc),
                              svc.settings, campaign_id, campaign["time_zone"],
                              svc.clock.now())
        if await svc.hot.exists(CampaignKeys.of(campaign_id).meta):
            repairs.append(Repair(campaign_id, merchant_id, None, "reprimed", None, None))
        after = await scripts.counters(campaign_id)
        if not after.primed:
            return []
        before = after  # rebuilt from PostgreSQL just now: no earlier reading holds
    repaired = await scripts.repair(
        campaign_id,
        raise_wins={p["id"]: p["wins"] for p in prizes
                    if after.wins.get(p["id"], 0) < p["wins"]},
        quantities={p["id"]: (after.qty.get(p["id"]), p["quantity"]) for p in prizes
                    if p["quantity"] is not None and after.qty.get(p["id"]) != p["quantity"]})
    measured = []
    for p in prizes:
        recorded: int = p["wins"]
        if p["id"] in repaired.wins:
            redis_wins = repaired.wins[p["id"]]
            repairs.append(Repair(campaign_id, merchant_id, p["id"], "wins", redis_wins,
                                  recorded))
        else:
            # In flight at the first reading and committed since: in PostgreSQL's count.
            # Drawn after it: not in the smaller reading. (Below the record a moment ago
            # and at or above it when the script looked: a draw raced in, no drift.)
            later = after.wins.get(p["id"], 0)
            seen = min(before.wins.get(p["id"], 0), later) if before.primed else later
            redis_wins = max(seen, recorded)
        if p["id"] in repaired.quantities:
            repairs.append(Repair(campaign_id, merchant_id, p["id"], "quantity",
                                  repaired.quantities[p["id"]], p["quantity"]))
        measured.append(Measurement(p["id"], campaign_id, merchant_id, redis_wins, recorded))
    return measured

