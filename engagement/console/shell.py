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
from engagement.console import queries, sessions
from engagement.console.schemas import ROLES, Role
from engagement.console.service import RoleForbidden
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
# The till's page (engagement/till/): where a cashier works, and all a cashier may open
# besides signing out.
TILL = "/till"


# Who may open a console route: every route of the console and the till names one of
# these (a role decision), and tests/console/test_roles.py walks the route table to hold
# each route to it.
OWNER: frozenset[Role] = frozenset({"owner"})
MANAGERS: frozenset[Role] = frozenset({"owner", "manager"})
STAFF: frozenset[Role] = frozenset(ROLES)


@dataclass(frozen=True)
class ConsoleUser:
    id: str
    email: str
    merchant: Merchant
    role: Role
    store_id: str | None


class LoginRequired(Unauthorized):
    code, message = "login_required", "Sign in to the console first."


def landing(role: Role) -> str:
    """Where a role starts after signing in: the till for a cashier, the console for the rest."""
    return TILL if role == "cashier" else HOME


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
    # The user is read on every request, not trusted from the session: a removed user or
    # a changed role takes effect at once, in every open session.
    user = await queries.user_by_id(svc.pool, session.user_id)
    if user is None or user["removed_at"] is not None \
            or user["merchant_id"] != session.merchant_id:
        return None
    merchant = await merchant_queries.merchant_by_id(svc.pool, session.merchant_id)
    if merchant is None:
        return None
    return ConsoleUser(id=user["id"], email=user["email"], merchant=merchant,
                       role=user["role"], store_id=user["store_id"])


class ConsoleRoute(Route):
    """A route of the console or the till with its role decision: ``allow`` is the roles
    that may open it, None for the pages of visitors (signing in)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, methods: list[str],
                 allow: frozenset[Role] | None) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.allow = allow


def page_route(path: str, handler: ConsoleHandler, methods: tuple[str, ...] = ("GET",),
               *, allow: frozenset[Role]) -> ConsoleRoute:
    """A signed-in page for the roles in ``allow``. State changes are checked for CSRF
    first, before anything is read or written, then for a session, then for the role."""

    async def endpoint(request: Request) -> Response:
        if request.method not in SAFE_METHODS:
            await verify_csrf(request)
        user = await current_user(request)
        if user is None:
            raise LoginRequired()
        if user.role not in allow:
            return role_refused(request, user)
        return await handler(request, user)

    endpoint.__name__ = handler.__name__
    return ConsoleRoute(path, endpoint, methods=list(methods), allow=allow)


def public_route(path: str, handler: PublicHandler,
                 methods: tuple[str, ...] = ("GET",)) -> ConsoleRoute:
    """A page for visitors (sign-in): state changes still need the CSRF token."""

    async def endpoint(request: Request) -> Response:
        if request.method not in SAFE_METHODS:
            await verify_csrf(request)
        return await handler(request)

    endpoint.__name__ = handler.__name__
    return ConsoleRoute(path, endpoint, methods=list(methods), allow=None)


def role_refused(request: Request, user: ConsoleUser) -> Response:
    """403 role_forbidden: JSON for htmx and API clients; for a browser, a page that says
    what this account can use instead (a cashier: the till, with a big link to it)."""
    if is_htmx(request) or not wants_page(request):
        return error_response(RoleForbidden(role=user.role))
    return render_page(request, user, "console/forbidden.html",
                       {"landing": landing(user.role)}, status=403)


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
    # Only the entries this role may open.
    nav = [n for n in _nav.values() if user is not None and user.role in n.allow]
    return render(request, template, {
        "user": user, "merchant": user.merchant if user else None,
        "nav": sorted(nav, key=lambda n: n.order), "active": active,
        "notice": notice, "refresh_seconds": CONSOLE_REFRESH_SECONDS, **context}, status=status)


def redirect(path: str, notice: str | None = None) -> Response:
    if notice:
        path = f"{path}{'&' if '?' in path else '?'}notice={notice}"
    return RedirectResponse(path, status_code=303)
