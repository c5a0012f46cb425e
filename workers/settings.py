"""The arq worker: registers each domain's jobs, runs the crons, owns the worker's start-up.

Jobs are named ``domain.verb``; they take ids, reload state and are no-ops when already done,
because arq delivers at least once.
"""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Worker

from engagement.coupons import tasks as coupon_tasks
from engagement.kit.clock import Clock
from engagement.kit.config import Settings, get_settings, resolve_secret_key
from engagement.kit.constants import (
    PURGE_TOKENS_EVERY_MINUTES,
    QUEUE_NAME,
    SCHEDULE_DAILY_SENDS_EVERY_MINUTES,
    SWEEP_EVERY_SECONDS,
)
from engagement.kit.db import create_pool
from engagement.kit.state import Services
from engagement.loyalty.sends import tasks as send_tasks
from engagement.loyalty.tiers import tasks as tier_tasks
from engagement.loyalty.webhooks import service as webhook_service
from engagement.loyalty.webhooks import tasks as webhook_tasks
from engagement.members import tasks as member_tasks
from engagement.points import service as points_service
from engagement.points import tasks as points_tasks
from games import tasks as game_tasks
from games.campaigns import service as game_service
from referrals import tasks as referral_tasks

FUNCTIONS = [
    func(member_tasks.purge_expired_tokens, name="members.purge_expired_tokens"),
    func(coupon_tasks.expire_due, name="coupons.expire_due"),
    # Settlement jobs are many and short; their results are not read by anyone.
    func(game_tasks.settle_draws, name="games.settle_draws", keep_result=0),
    func(game_tasks.release_reservations, name="games.release_reservations"),
    func(game_tasks.sweep, name="games.sweep", keep_result=0),
    func(referral_tasks.release_commissions, name="referrals.release_commissions"),
    func(points_tasks.expire_due, name="points.expire_due"),
    func(points_tasks.purge_idempotent_responses, name="points.purge_idempotent_responses"),
    func(tier_tasks.evaluate, name="tiers.evaluate"),
    # A send of 100,000 coupons takes seconds, not the default two minutes' worth of margin.
    func(send_tasks.run, name="sends.run", timeout=1800),
    func(send_tasks.schedule_daily, name="sends.schedule_daily"),
    func(send_tasks.sweep, name="sends.sweep", keep_result=0),
    func(webhook_tasks.deliver_due, name="webhooks.deliver_due", keep_result=0),
]

CRON_JOBS = [
    cron(member_tasks.purge_expired_tokens, name="cron:members.purge_expired_tokens",
         minute=set(range(0, 60, PURGE_TOKENS_EVERY_MINUTES)), run_at_startup=False),
    cron(coupon_tasks.expire_due, name="cron:coupons.expire_due", minute=None, second={30}),
    cron(game_tasks.sweep, name="cron:games.sweep", second=set(range(0, 60, SWEEP_EVERY_SECONDS)),
         run_at_startup=True, keep_result=0),
    # Holds are days long: releasing once a minute is punctual enough and costs one query.
    cron(referral_tasks.release_commissions, name="cron:referrals.release_commissions",
         minute=None, second={15}),
    # Points expire by the day: once a day at 18:05 UTC, 02:05 in Beijing (arq's crons run
    # on the worker's clock, UTC in our images).
    cron(points_tasks.expire_due, name="cron:points.expire_due", hour={18}, minute={5},
         run_at_startup=False),
    cron(points_tasks.purge_idempotent_responses, name="cron:points.purge_idempotent_responses",
         minute={20}, run_at_startup=False),
    # After the day's expiry, so tiers on points see today's balances.
    cron(tier_tasks.evaluate, name="cron:tiers.evaluate", hour={18}, minute={35},
         run_at_startup=False),
    # Birthday sends: each merchant's run is made once its local time reaches 08:00
    # (DAILY_SEND_LOCAL_HOUR), so every time zone gets the coupon in its own morning; the
    # ticks before then, and after the day's run exists, make nothing.
    cron(send_tasks.schedule_daily, name="cron:sends.schedule_daily",
         minute=set(range(0, 60, SCHEDULE_DAILY_SENDS_EVERY_MINUTES)), run_at_startup=True),
    cron(send_tasks.sweep, name="cron:sends.sweep", minute=set(range(0, 60, 5)),
         run_at_startup=True, keep_result=0),
    # The outbox is polled: the first retry waits 5 s, so every 5 s is punctual enough.
    cron(webhook_tasks.deliver_due, name="cron:webhooks.deliver_due",
         second=set(range(0, 60, 5)), run_at_startup=True, keep_result=0, unique=True),
]


def make_worker(settings: Settings | None = None, *, clock: Clock | None = None,
                burst: bool = False, **overrides: Any) -> Worker:
    settings = settings or get_settings()
    assert settings.redis_url and settings.database_url

    game_service.register_hooks()
    referral_tasks.register_hooks()
    points_service.register_hooks()
    webhook_service.register_hooks()

    async def on_startup(ctx: dict[str, Any]) -> None:
        assert settings.database_url
        pool = await create_pool(settings.database_url, min_size=1,
                                 max_size=max(4, settings.worker_max_jobs))
        ctx["services"] = Services(settings=settings, pool=pool, redis=ctx["redis"],
                                   clock=clock or Clock(),
                                   secret_key=resolve_secret_key(settings))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if "services" in ctx:
            await ctx["services"].pool.close()

    options: dict[str, Any] = {
        "functions": FUNCTIONS,
        "cron_jobs": None if burst else CRON_JOBS,
        "queue_name": QUEUE_NAME,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        # arq polls every 0.5 s by default; settlement lag targets need far less.
        "poll_delay": settings.worker_poll_delay,
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": 120,
        "keep_result": 60,
        # The health key (arq:queue:health-check) is refreshed this often and outlives it
        # by a second, so compose's health check sees a dead worker within half a minute.
        "health_check_interval": 30,
        "burst": burst,
        "handle_signals": not burst,
    }
    options.update(overrides)
    return Worker(**options)
