"""The arq worker: the jobs and crons every domain declares in its record, and the worker's
start-up.

Jobs are named ``domain.verb``; they take ids, reload state and are no-ops when already done,
because arq delivers at least once.
"""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Worker

from engagement.domains import DOMAINS, install
from engagement.kit.clock import Clock
from engagement.kit.config import Settings, get_settings, resolve_secret_key
from engagement.kit.constants import QUEUE_NAME
from engagement.kit.db import create_pool
from engagement.kit.domain import CronSpec, JobSpec
from engagement.kit.hot_redis import connect_hot
from engagement.kit.state import Services


def _function(job: JobSpec) -> Any:
    options: dict[str, Any] = {}
    if job.keep_result is not None:
        options["keep_result"] = job.keep_result
    if job.timeout is not None:
        options["timeout"] = job.timeout
    # arq types jobs as its WorkerCoroutine protocol, which the kit (no arq) cannot name.
    return func(job.function, name=job.name, **options)  # type: ignore[arg-type]


def _cron(spec: CronSpec) -> Any:
    options: dict[str, Any] = {}
    if spec.job.keep_result is not None:
        options["keep_result"] = spec.job.keep_result
    return cron(spec.job.function,  # type: ignore[arg-type]
                name=f"cron:{spec.job.name}",
                hour=set(spec.hour) if spec.hour is not None else None,
                minute=set(spec.minute) if spec.minute is not None else None,
                second=set(spec.second), run_at_startup=spec.run_at_startup,
                unique=spec.unique, **options)


FUNCTIONS = [_function(job) for d in DOMAINS for job in d.jobs]
CRON_JOBS = [_cron(spec) for d in DOMAINS for spec in d.crons]


def make_worker(settings: Settings | None = None, *, clock: Clock | None = None,
                burst: bool = False, **overrides: Any) -> Worker:
    settings = settings or get_settings()
    assert settings.redis_url and settings.database_url

    install()

    async def on_startup(ctx: dict[str, Any]) -> None:
        assert settings.database_url
        pool = await create_pool(settings.database_url, min_size=1,
                                 max_size=max(4, settings.worker_max_jobs))
        ctx["services"] = Services(settings=settings, pool=pool, redis=ctx["redis"],
                                   clock=clock or Clock(),
                                   secret_key=resolve_secret_key(settings),
                                   cluster=await connect_hot(settings))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if "services" in ctx:
            svc: Services = ctx["services"]
            await svc.close_helpers()
            if svc.cluster is not None:
                await svc.cluster.aclose()
            await svc.pool.close()

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
