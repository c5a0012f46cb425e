"""The app factory: the one composition root of the web process."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from engagement import pages
from engagement.console import shell as console_shell
from engagement.console.routes import routes as console_routes
from engagement.coupons.routes import routes as coupon_routes
from engagement.kit import health, openapi
from engagement.kit.clock import Clock
from engagement.kit.config import Settings, get_settings, resolve_secret_key
from engagement.kit.db import create_pool
from engagement.kit.errors import EXCEPTION_HANDLERS
from engagement.kit.jobs import connect_queue
from engagement.kit.logging import RequestLogMiddleware
from engagement.kit.request_limits import RequestLimitMiddleware
from engagement.kit.state import Services
from engagement.kit.web import STATIC_DIR, CachedStatic, make_templates, static_url
from engagement.loyalty.join.routes import routes as join_routes
from engagement.loyalty.mall.routes import routes as mall_routes
from engagement.loyalty.sends.routes import routes as send_routes
from engagement.loyalty.tiers.routes import routes as tier_routes
from engagement.loyalty.webhooks import service as webhook_service
from engagement.loyalty.webhooks.routes import routes as webhook_routes
from engagement.members.routes import routes as member_routes
from engagement.orders.routes import routes as order_routes
from engagement.points import service as points_service
from engagement.points.routes import routes as points_routes
from games.campaigns import console as game_console
from games.campaigns import pages as game_pages
from games.campaigns import service as game_service
from games.campaigns.routes import routes as campaign_routes
from games.draw.routes import routes as draw_routes
from referrals import binding as referral_binding
from referrals import console as referral_console
from referrals import pages as referral_pages
from referrals import tasks as referral_tasks
from referrals.routes import routes as referral_routes


def all_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        # Starlette tries routes in order: the draw endpoint, the hot path, comes early.
        *draw_routes,
        *campaign_routes,
        Route("/openapi.json", openapi.openapi_json, methods=["GET"]),
        Route("/docs", openapi.docs_page, methods=["GET"]),
        *member_routes,
        *coupon_routes,
        *pages.routes,
        *join_routes,
        *game_pages.routes,
        *order_routes,
        *points_routes,
        *mall_routes,
        *tier_routes,
        *send_routes,
        *webhook_routes,
        *referral_routes,
        *referral_pages.routes,
        *console_routes,
        *game_console.routes,
        *referral_console.routes,
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
    game_service.register_hooks()
    referral_tasks.register_hooks()
    points_service.register_hooks()
    webhook_service.register_hooks()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("database_url and redis_url must be set (the CLI starts "
                               "embedded servers when they are not)")
        pool = await create_pool(settings.database_url, min_size=settings.db_pool_min,
                                 max_size=settings.db_pool_max)
        queue = await connect_queue(settings.redis_url)
        app.state.services = Services(settings=settings, pool=pool, redis=queue, clock=clock,
                                      secret_key=resolve_secret_key(settings))
        _freeze_startup_heap()
        try:
            yield
        finally:
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
    app.state.static_url = static_url
    # Share codes on member creation belong to the referral domain.
    app.state.referrer_resolver = referral_binding.resolve_referrer
    app.state.share_binder = referral_binding.bind_from_api
    app.state.join_binder = referral_binding.bind_on_join
    return app
