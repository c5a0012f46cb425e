"""The arq worker: registers each domain's jobs, runs the crons, owns the worker's start-up.

Jobs are named ``domain.verb``; they take ids, reload state and are no-ops when already done,
because arq delivers at least once.
"""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Worker

from engagement.clock import Clock
from engagement.config import Settings, get_settings, resolve_secret_key
from engagement.constants import PURGE_TOKENS_EVERY_MINUTES, QUEUE_NAME, SWEEP_EVERY_SECONDS
from engagement.coupons import tasks as coupon_tasks
from engagement.db import create_pool
from engagement.members import tasks as member_tasks
from engagement.state import Services
from games import service as game_service
from games import tasks as game_tasks

FUNCTIONS = [
    func(member_tasks.purge_expired_tokens, name="members.purge_expired_tokens"),
    func(coupon_tasks.expire_due, name="coupons.expire_due"),
    # Settlement jobs are many and short; their results are not read by anyone.
    func(game_tasks.settle_draws, name="games.settle_draws", keep_result=0),
    func(game_tasks.release_reservations, name="games.release_reservations"),
    func(game_tasks.sweep, name="games.sweep", keep_result=0),
]

CRON_JOBS = [
    cron(member_tasks.purge_expired_tokens, name="cron:members.purge_expired_tokens",
         minute=set(range(0, 60, PURGE_TOKENS_EVERY_MINUTES)), run_at_startup=False),
    cron(coupon_tasks.expire_due, name="cron:coupons.expire_due", minute=None, second={30}),
    cron(game_tasks.sweep, name="cron:games.sweep", second=set(range(0, 60, SWEEP_EVERY_SECONDS)),
         run_at_startup=True, keep_result=0),
]


def make_worker(settings: Settings | None = None, *, clock: Clock | None = None,
                burst: bool = False, **overrides: Any) -> Worker:
    settings = settings or get_settings()
    assert settings.redis_url and settings.database_url

    game_service.register_hooks()

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
        "burst": burst,
        "handle_signals": not burst,
    }
    options.update(overrides)
    return Worker(**options)
