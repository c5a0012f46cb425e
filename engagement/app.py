"""The app factory: the one composition root of the web process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from engagement import health, openapi, pages
from engagement.clock import Clock
from engagement.config import Settings, get_settings, resolve_secret_key
from engagement.coupons.routes import routes as coupon_routes
from engagement.db import create_pool
from engagement.errors import EXCEPTION_HANDLERS
from engagement.jobs import connect_queue
from engagement.logging import RequestLogMiddleware
from engagement.members.routes import routes as member_routes
from engagement.state import Services
from engagement.web import STATIC_DIR, CachedStatic, make_templates, static_url
from games import service as game_service
from games.routes import routes as game_routes


def all_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/openapi.json", openapi.openapi_json, methods=["GET"]),
        Route("/docs", openapi.docs_page, methods=["GET"]),
        *member_routes,
        *coupon_routes,
        *game_routes,
        *pages.routes,
        Mount("/static", app=CachedStatic(directory=STATIC_DIR), name="static"),
    ]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    settings = settings or get_settings()
    clock = clock or Clock()
    game_service.register_hooks()

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
        try:
            yield
        finally:
            await queue.aclose()
            await pool.close()

    app = Starlette(
        routes=all_routes(),
        middleware=[Middleware(RequestLogMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.templates = make_templates()
    app.state.static_url = static_url
    return app
