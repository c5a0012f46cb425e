"""What the campaign dashboard says about stock reconciliation (games/campaigns/dashboard.py):
prizes whose Redis count is ahead of PostgreSQL's at the last run (a warning: not repaired)
and what the reconciliation repaired lately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engagement.kit.state import Services
from games.reconcile import queries

# Repairs stay on the dashboard this long, the latest few of them.
REPAIRS_SHOWN_FOR = timedelta(hours=24)
REPAIRS_SHOWN = 3


@dataclass(frozen=True)
class Flag:
    prize_name: str
    redis_wins: int
    recorded_wins: int
    since: datetime


@dataclass(frozen=True)
class RepairNote:
    kind: str  # 'reprimed', 'wins', 'quantity'
    prize_name: str | None
    redis_value: int | None
    recorded: int | None
    at: datetime


@dataclass(frozen=True)
class StockNotes:
    flags: list[Flag]
    repairs: list[RepairNote]


async def stock_notes(svc: Services, merchant_id: str, campaign_id: str) -> StockNotes:
    flags = [Flag(r["name"], r["redis_wins"], r["recorded_wins"], r["drifting_since"])
             for r in await queries.flagged(svc.pool, merchant_id, campaign_id)]
    since = svc.clock.now() - REPAIRS_SHOWN_FOR
    repairs = [RepairNote(r["kind"], r["name"], r["redis_value"], r["recorded"],
                          r["repaired_at"])
               for r in await queries.recent_repairs(svc.pool, merchant_id, campaign_id,
                                                     since, REPAIRS_SHOWN)]
    return StockNotes(flags, repairs)
