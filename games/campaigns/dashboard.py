"""What the live campaign dashboard shows: the counters of ``service.stats`` plus draws over
time, each prize's burn-down and when it is projected to run out, and what the stock
reconciliation (games/reconcile) flagged or repaired.

Counters come from Redis (as the stats endpoint answers); the time series is one grouped
read of recent draws, bounded by id (ids are time-ordered) so it stays an index range scan
on ``draws (campaign_id, id)`` however long the campaign has run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from engagement.kit.errors import InvalidInput
from engagement.kit.ids import id_floor
from engagement.kit.state import Services
from games.campaigns import queries as campaign_queries
from games.campaigns import service
from games.campaigns.schemas import CampaignOut, StatsOut
from games.draw import queries as draw_queries
from games.reconcile.notes import StockNotes, stock_notes

# The chart covers at most the last day (a longer campaign's history is in the CSV), and at
# least half an hour so that a campaign just published still has an axis.
WINDOW_MAX = timedelta(hours=24)
WINDOW_MIN = timedelta(minutes=30)
# Bucket sizes, the smallest that keeps the chart under ~100 bars.
BUCKETS = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(hours=1)]
MAX_BUCKETS = 100
# Draw ids carry the web process's wall clock, created_at the app's clock: allow for skew.
ID_SLACK = timedelta(hours=1)
# Run-out projections use the win rate of the last hour (or of the campaign's life, if
# shorter, but never less than this much time, so that a first burst is not extrapolated).
RATE_WINDOW = timedelta(hours=1)
RATE_WINDOW_MIN = timedelta(minutes=5)
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PrizeLine:
    id: str
    name: str
    kind: str
    quantity: int | None
    won: int
    remaining: int | None
    probability: float
    burn_down: list[int]  # remaining at the end of each bucket
    runs_out_at: datetime | None  # projected, at the recent win rate
    outlasts: bool  # at the recent rate, stock lasts past the campaign's end
    hours_left: float | None


class DrawsNotStoreBound(InvalidInput):
    code = "draws_not_store_bound"
    message = "Draws are made on members' phones, not at a store: they have no store filter."


@dataclass(frozen=True)
class StoreRedeemed:
    """The campaign's coupons redeemed at one store. Of all the dashboard shows, only
    redemptions happen at a store (coupons.store_id); draws and wins happen on phones."""

    id: str
    name: str
    redeemed: int


@dataclass(frozen=True)
class Dashboard:
    campaign: CampaignOut
    stats: StatsOut
    buckets: list[datetime]
    bucket_size: timedelta
    draws: list[int]
    wins: list[int]
    prizes: list[PrizeLine]
    now: datetime
    store: StoreRedeemed | None = None
    # What the stock reconciliation found (games/reconcile): drift it flagged, repairs.
    stock: StockNotes | None = None

    @property
    def wins_total(self) -> int:
        return sum(self.stats.wins.values())

    @property
    def redemption_rate(self) -> float | None:
        issued = self.stats.coupons_issued
        return self.stats.coupons_redeemed / issued if issued else None

    def chart_data(self, time_zone: str) -> dict[str, object]:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(time_zone)
        fmt = "%H:%M" if self.bucket_size < timedelta(hours=1) else "%m-%d %H:%M"
        return {
            "labels": [b.astimezone(zone).strftime(fmt) for b in self.buckets],
            "draws": self.draws, "wins": self.wins,
            "prizes": [{"id": p.id, "name": p.name, "quantity": p.quantity,
                        "burnDown": p.burn_down}
                       for p in self.prizes if p.quantity is not None],
            "totals": {"draws": self.stats.draws, "players": self.stats.players,
                       "wins": self.wins_total},
        }


def _floor(when: datetime, size: timedelta) -> datetime:
    return _ORIGIN + ((when - _ORIGIN) // size) * size


def window(campaign: CampaignOut, now: datetime) -> tuple[datetime, datetime, timedelta]:
    end = min(now, campaign.ended_at) if campaign.ended_at else now
    began = campaign.published_at or campaign.created_at
    start = min(max(began, end - WINDOW_MAX), end - WINDOW_MIN)
    size = next((b for b in BUCKETS if (end - start) / b <= MAX_BUCKETS), BUCKETS[-1])
    return _floor(start, size), end, size


async def build(svc: Services, merchant_id: str, campaign_id: str, time_zone: str,
                store: asyncpg.Record | None = None) -> Dashboard:
    campaign = await service.campaign_out(svc, merchant_id, campaign_id)
    at_store = None
    if store is not None:
        redeemed = await campaign_queries.redeemed_at_store(svc.pool, merchant_id,
                                                            campaign_id, store["id"])
        at_store = StoreRedeemed(store["id"], store["name"], redeemed)
    stats = await service.stats(svc, merchant_id, campaign_id, time_zone)
    now = svc.clock.now()
    start, end, size = window(campaign, now)
    buckets = []
    at = start
    while at <= end:
        buckets.append(at)
        at += size
    index = {b: i for i, b in enumerate(buckets)}
    draws = [0] * len(buckets)
    wins = [0] * len(buckets)
    prize_wins: dict[str, list[int]] = {p.id: [0] * len(buckets) for p in campaign.prizes}
    rows = []
    if campaign.status != "draft":
        floor = id_floor("drw", int((start - ID_SLACK).timestamp() * 1000))
        rows = await draw_queries.draw_buckets(svc.pool, campaign_id, floor, start,
                                          int(size.total_seconds()), _ORIGIN)
    rate_since = max(now - RATE_WINDOW, campaign.published_at or now)
    rate_since = min(rate_since, now - RATE_WINDOW_MIN)
    recent: dict[str, int] = {}
    for row in rows:
        i = index.get(row["bucket"])
        if i is None:
            continue
        draws[i] += row["draws"]
        wins[i] += row["wins"]
        if row["prize_id"] in prize_wins and row["wins"]:
            prize_wins[row["prize_id"]][i] += row["wins"]
            if row["bucket"] + size > rate_since:
                recent[row["prize_id"]] = recent.get(row["prize_id"], 0) + row["wins"]
    rate_hours = (now - rate_since) / timedelta(hours=1)
    lines = []
    for prize in campaign.prizes:
        won = stats.wins.get(prize.id, 0)
        remaining = None if prize.quantity is None else max(0, prize.quantity - won)
        burn_down: list[int] = []
        if remaining is not None:
            later = 0
            for n in reversed(prize_wins[prize.id]):
                burn_down.append(remaining + later)
                later += n
            burn_down.reverse()
        runs_out_at, outlasts = None, False
        rate = recent.get(prize.id, 0) / rate_hours if rate_hours > 0 else 0
        if remaining and rate > 0 and campaign.status == "active":
            runs_out_at = now + timedelta(hours=remaining / rate)
            outlasts = campaign.ends_at is not None and runs_out_at > campaign.ends_at
        lines.append(PrizeLine(
            id=prize.id, name=prize.name, kind=prize.kind, quantity=prize.quantity, won=won,
            remaining=remaining, probability=prize.probability, burn_down=burn_down,
            runs_out_at=runs_out_at, outlasts=outlasts,
            hours_left=(runs_out_at - now) / timedelta(hours=1) if runs_out_at else None))
    stock = await stock_notes(svc, merchant_id, campaign_id) \
        if campaign.status != "draft" else None
    return Dashboard(campaign=campaign, stats=stats, buckets=buckets, bucket_size=size,
                     draws=draws, wins=wins, prizes=lines, now=now, store=at_store,
                     stock=stock)
