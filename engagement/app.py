"""The app factory: the one composition root of the web process."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from engagement.console import labels as console_labels
from engagement.console import shell as console_shell
from engagement.domains import DOMAINS, install
from engagement.kit import health, metrics, openapi
from engagement.kit.clock import Clock
from engagement.kit.config import Settings, get_settings, resolve_secret_key
from engagement.kit.db import create_pool
from engagement.kit.domain import Domain
from engagement.kit.errors import EXCEPTION_HANDLERS
from engagement.kit.hot_redis import connect_hot
from engagement.kit.jobs import connect_queue
from engagement.kit.logging import RequestLogMiddleware
from engagement.kit.request_limits import RequestLimitMiddleware
from engagement.kit.state import Services
from engagement.kit.web import STATIC_DIR, CachedStatic, make_templates, static_url


def all_routes(domains: tuple[Domain, ...] = DOMAINS) -> list[BaseRoute]:
    """Starlette tries routes in order: the hot path (the draw endpoint) comes first, the
    console after the API and the member pages."""
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        *[route for d in domains for route in d.hot_routes],
        Route("/metrics", metrics.endpoint([g for d in domains for g in d.gauges]),
              methods=["GET"]),
        Route("/openapi.json", openapi.openapi_json, methods=["GET"]),
        Route("/docs", openapi.docs_page, methods=["GET"]),
        *[route for d in domains for route in d.routes],
        *[route for d in domains for route in d.console_routes],
        Mount("/static", app=CachedStatic(directory=STATIC_DIR), name="static"),
    ]


GC_THRESHOLDS = (10_000, 10, 10)


def _freeze_startup_heap() -> None:
    """What start-up built (modules, routes, templates, pools) lives as long as the process:
    take it out of the cyclic collector's sight, and collect the young generation less
    often. Under load the objects of requests in flight were promoted to the oldest
    generation at every young collection, which set off a full collection of the whole
    heap every ~400 ms: a ~30 ms stall of every request in flight (the draw endpoint's
    p99). Nearly everything a request makes is freed by reference counting; the raised
    first threshold still finds cycles, just less often. Once per process (tests start
    many apps in one)."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    settings = settings or get_settings()
    clock = clock or Clock()
    install()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("database_url and redis_url must be set (the CLI starts "
                               "embedded servers when they are not)")
        pool = await create_pool(settings.database_url, min_size=settings.db_pool_min,
                                 max_size=settings.db_pool_max)
        queue = await connect_queue(settings.redis_url)
        cluster = await connect_hot(settings)
        app.state.services = Services(settings=settings, pool=pool, redis=queue, clock=clock,
                                      secret_key=resolve_secret_key(settings),
                                      cluster=cluster)
        _freeze_startup_heap()
        try:
            yield
        finally:
            await app.state.services.close_helpers()
            if cluster is not None:
                await cluster.aclose()
            await queue.aclose()
            await pool.close()

    app = Starlette(
        routes=all_routes(),
        # Request limits sit right inside logging: no route sees a body past its limit or a
        # URL with control characters, and the refusals are still logged.
        middleware=[Middleware(RequestLogMiddleware), Middleware(RequestLimitMiddleware)],
        exception_handlers={**EXCEPTION_HANDLERS,
                            console_shell.LoginRequired: console_shell.login_required},
        lifespan=lifespan,
    )
    app.state.templates = make_templates()
    app.state.templates.globals["STATUS_LABELS"] = console_labels.STATUS
    app.state.static_url = static_url
    return app
