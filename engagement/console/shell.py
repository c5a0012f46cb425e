"""The console shell: who is signed in, the CSRF check on every state change, navigation
and the renderer every console page goes through.

The games and referral domains add pages of their own; the core cannot import them, so they
declare navigation entries and notices in their Domain record, the composition roots install
them here, and the app factory mounts their routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import asyncpg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import SAFE_METHODS
from engagement.console import sessions
from engagement.kit import csrf
from engagement.kit.constants import CONSOLE_COOKIE, CONSOLE_REFRESH_SECONDS
from engagement.kit.domain import NavItem
from engagement.kit.errors import Unauthorized, error_response, wants_page
from engagement.kit.http import read_form
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.merchants import queries as merchant_queries
from engagement.merchants.schemas import Merchant

HOME = "/console/campaigns"


@dataclass(frozen=True)
class ConsoleUser:
    id: str
    email: str
    merchant: Merchant


class LoginRequired(Unauthorized):
    code, message = "login_required", "Sign in to the console first."


ConsoleHandler = Callable[[Request, ConsoleUser], Awaitable[Response]]
PublicHandler = Callable[[Request], Awaitable[Response]]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def verify_csrf(request: Request) -> None:
    """Every state change carries the page's token, in the form or (htmx) in a header."""
    supplied = request.headers.get(csrf.HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        supplied = (await read_form(request)).get(csrf.FORM_FIELD)
    csrf.verify(request, supplied)


async def current_user(request: Request) -> ConsoleUser | None:
    svc = services(request)
    session = await sessions.load(svc.redis, request.cookies.get(CONSOLE_COOKIE),
                                  svc.clock.now())
    if session is None:
        return None
    merchant = await merchant_queries.merchant_by_id(svc.pool, session.merchant_id)
    if merchant is None:
        return None
    return ConsoleUser(id=session.user_id, email=session.email, merchant=merchant)


def page_route(path: str, handler: ConsoleHandler, methods: tuple[str, ...] = ("GET",)
               ) -> Route:
    """A signed-in page. State changes are checked for CSRF first, before anything is read
    or written, and then for a session."""

    async def endpoint(request: Request) -> Response:
        if request.method not in SAFE_METHODS:
            await verify_csrf(request)
        user = await current_user(request)
        if user is None:
            raise LoginRequired()
        return await handler(request, user)

    endpoint.__name__ = handler.__name__
    return Route(path, endpoint, methods=list(methods))


def public_route(path: str, handler: PublicHandler,
                 methods: tuple[str, ...] = ("GET",)) -> Route:
    """A page for visitors (sign-in): state changes still need the CSRF token."""

    async def endpoint(request: Request) -> Response:
        if request.method not in SAFE_METHODS:
            await verify_csrf(request)
        return await handler(request)

    endpoint.__name__ = handler.__name__
    return Route(path, endpoint, methods=list(methods))


async def login_required(request: Request, exc: Exception) -> Response:
    """Pages send the browser to sign in and back; htmx follows HX-Redirect; APIs get 401."""
    # After signing in, back to the page (a form posted to an ended session is not replayed).
    back = request.url.path if request.method in SAFE_METHODS else HOME
    target = f"/console/login?{urlencode({'next': back})}"
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    if wants_page(request):
        return RedirectResponse(target, status_code=303)
    assert isinstance(exc, LoginRequired)
    return error_response(exc)


# Navigation, notices and member-page sections contributed by each domain.

_nav: dict[str, NavItem] = {}
_notices: dict[str, str] = {}


def install_navigation(nav: list[NavItem], notices: dict[str, str]) -> None:
    """Navigation entries, and the short confirmations shown after a redirect
    (``?notice=<key>``; values are message ids)."""
    _nav.clear()
    _nav.update((item.key, item) for item in nav)
    _notices.clear()
    _notices.update(notices)


@dataclass(frozen=True)
class MemberSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


MemberSectionProvider = Callable[[Request, ConsoleUser, asyncpg.Record],
                                 Awaitable[MemberSection | None]]
_member_sections: dict[str, MemberSectionProvider] = {}


def install_member_sections(providers: list[tuple[str, MemberSectionProvider]]) -> None:
    _member_sections.clear()
    _member_sections.update(providers)


async def member_sections(request: Request, user: ConsoleUser,
                          member: asyncpg.Record) -> list[MemberSection]:
    found = [await provider(request, user, member) for provider in _member_sections.values()]
    return sorted((s for s in found if s is not None), key=lambda s: s.order)


def render_page(request: Request, user: ConsoleUser | None, template: str,
                context: dict[str, Any], *, status: int = 200,
                active: str | None = None) -> Response:
    notice = _notices.get(request.query_params.get("notice", ""))
    return render(request, template, {
        "user": user, "merchant": user.merchant if user else None,
        "nav": sorted(_nav.values(), key=lambda n: n.order), "active": active,
        "notice": notice, "refresh_seconds": CONSOLE_REFRESH_SECONDS, **context}, status=status)


def redirect(path: str, notice: str | None = None) -> Response:
    if notice:
        path = f"{path}{'&' if '?' in path else '?'}notice={notice}"
    return RedirectResponse(path, status_code=303)
