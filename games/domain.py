"""The games domain's Domain record: the draw engine, campaigns, game pages, console pages."""

from __future__ import annotations

from engagement.kit import hooks
from engagement.kit.constants import SWEEP_EVERY_SECONDS
from engagement.kit.domain import CronSpec, Domain, JobSpec, NavItem
from engagement.kit.i18n import N_
from engagement.kit.metrics import ScrapeGauge
from engagement.kit.state import Services
from games import demo, tasks
from games.campaigns import console, pages, posters, service
from games.campaigns.routes import routes as campaign_routes
from games.chances import service as chances
from games.draw import queries as draw_queries
from games.draw import service as draw_service
from games.draw.routes import routes as draw_routes
from games.reconcile import queries as reconcile_queries
from games.reconcile import tasks as reconcile_tasks

# Settlement jobs are many and short; their results are not read by anyone.
SETTLE_DRAWS = JobSpec(draw_service.SETTLE_JOB, tasks.settle_draws, keep_result=0)
RELEASE_RESERVATIONS = JobSpec(service.RELEASE_JOB, tasks.release_reservations)
SWEEP = JobSpec("games.sweep", tasks.sweep, keep_result=0)
DRAW_PARTITIONS = JobSpec("games.maintain_draw_partitions", tasks.maintain_draw_partitions)
RECONCILE = JobSpec("games.reconcile", reconcile_tasks.reconcile_stock)


async def _unsettled(svc: Services) -> float:
    return float(await draw_queries.unsettled_wins(svc.pool))


UNSETTLED = ScrapeGauge("engagement_unsettled_draws", "Winning draws whose coupon or points "
                        "are not issued yet, read from PostgreSQL when scraped.", _unsettled)


async def _drift(svc: Services) -> list[tuple[tuple[str, str], float]]:
    return [((r["campaign_id"], r["prize_id"]), float(r["drift"]))
            for r in await reconcile_queries.drift_series(svc.pool)]


STOCK_DRIFT = ScrapeGauge(
    "engagement_stock_drift", "Wins of a live campaign's prize counted in Redis minus those "
    "PostgreSQL holds, as the last reconciliation measured them (negative: Redis was behind "
    "and was repaired; positive: Redis is ahead, flagged, not repaired).", _drift,
    labels=("campaign", "prize"))

DOMAIN = Domain(
    name="games",
    hot_routes=tuple(draw_routes),
    routes=(*campaign_routes, *pages.routes),
    console_routes=(*console.routes, *posters.routes),
    console_nav=(NavItem("campaigns", "/console/campaigns", N_("营销活动"), order=10),),
    console_notices=console.NOTICES,
    console_member_sections=(("games.draws", console.member_draws),),
    home_sections=(("games.open", pages.open_games_section),
                   ("games.my_draws", pages.my_draws_section)),
    jobs=(SETTLE_DRAWS, RELEASE_RESERVATIONS, SWEEP, DRAW_PARTITIONS, RECONCILE),
    crons=(CronSpec(SWEEP, second=frozenset(range(0, 60, SWEEP_EVERY_SECONDS)),
                    run_at_startup=True),
           # Daily at 19:40 UTC (03:40 in Beijing, when draws are fewest), and at start-up,
           # so that a new worker has the coming months ready at once.
           CronSpec(DRAW_PARTITIONS, hour=frozenset({19}), minute=frozenset({40}),
                    run_at_startup=True),
           # Once a minute: Redis and PostgreSQL compared, what is safe repaired.
           CronSpec(RECONCILE, second=frozenset({45}))),
    listeners=((hooks.CouponRedeemed, service.on_coupon_redeemed),
               (hooks.CouponReturned, service.on_coupon_returned),
               (hooks.OrderPaid, chances.on_order_paid),
               (hooks.CheckedIn, chances.on_checked_in),
               (hooks.FriendJoined, chances.on_friend_joined)),
    demo=demo.seed,
    gauges=(UNSETTLED, STOCK_DRIFT),
)
