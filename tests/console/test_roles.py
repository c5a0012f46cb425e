"""Roles on every console route and every console API call, derived from the route table
(the app as the tests build it), never from a hand-written list: a new route without a role
decision fails here, and so does one that lets a cashier or a manager in by mistake.

The contract (API.md, "Stores, staff and the till"): a cashier reaches the till and signing
out, nothing else; a manager everything but staff, stores, API keys and settings. On the API
side only the routes documented as ``merchant_or_till`` take the till's session (the console
cookie); every other merchant route takes a Bearer key alone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import httpx
from starlette.routing import BaseRoute, Mount, Route

from engagement.console.shell import OWNER, STAFF, ConsoleRoute
from engagement.domains import DOMAINS
from engagement.kit.state import Services
from tests.console.helpers import HTML, Console, add_user, login, signed_in
from tests.factories import Factory

CONSOLE_AREAS = ("/console", "/till")
# The owner's own pages, which a manager must never open.
OWNER_PAGES = {"/console/staff", "/console/staff/{user_id}", "/console/staff/{user_id}/remove",
               "/console/stores", "/console/settings", "/console/settings/api-keys",
               "/console/settings/api-keys/{key_id}/revoke"}
REFUSED = {"unauthorized", "forbidden", "role_forbidden", "csrf_failed", "login_required"}


def _in_console_area(path: str) -> bool:
    return any(path == a or path.startswith(f"{a}/") for a in CONSOLE_AREAS)


def _declared_console_routes() -> list[BaseRoute]:
    return [route for d in DOMAINS for route in d.console_routes]


def undecided(routes: Iterable[BaseRoute], declared: Iterable[BaseRoute] = ()) -> list[str]:
    """Routes of the console or the till (by their path, or declared as console routes by
    a domain) that carry no role decision: anything but a ConsoleRoute."""
    declared_ids = {id(r) for r in declared}
    found = []
    for route in routes:
        path = getattr(route, "path", "")
        if (_in_console_area(path) or id(route) in declared_ids) \
                and not isinstance(route, ConsoleRoute):
            found.append(f"{type(route).__name__} {path}")
    return found


def console_routes(app: Any) -> list[ConsoleRoute]:
    return [r for r in app.routes if isinstance(r, ConsoleRoute)]


def calls(app: Any, keep: Any) -> list[tuple[str, str, frozenset[str] | None]]:
    """(method, path, allow) of every console route's methods that ``keep`` picks."""
    return sorted((method, r.path, r.allow) for r in console_routes(app)
                  for method in sorted(r.methods or ()) if method != "HEAD" and keep(r))


def fill(path: str) -> str:
    """Path parameters as dummy values: the role is refused before anything is looked up."""
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: f"x-{m.group(1)}", path)


async def _snapshot(services: Services) -> list[Any]:
    rows = []
    for table in ("coupon_templates", "campaigns", "members", "merchant_users", "stores",
                  "api_keys", "orders", "coupons"):
        rows.append([dict(r) for r in await services.pool.fetch(
            f"SELECT * FROM {table} ORDER BY 1")])
    return rows


def test_every_console_route_names_the_roles_it_allows(app: Any) -> None:
    assert undecided(app.routes, _declared_console_routes()) == []
    # The check bites: a plain route in the console or the till, or declared as a console
    # route under another path, has no role decision.
    plain = [Route("/console/reports", lambda r: None), Route("/till/x", lambda r: None),
             Mount("/console/files", routes=[])]
    elsewhere = Route("/reports", lambda r: None)
    assert undecided([*app.routes, *plain, elsewhere], [elsewhere]) == [
        "Route /console/reports", "Route /till/x", "Mount /console/files", "Route /reports"]
    # Every console route is mounted, and everything mounted there is a console route.
    assert {id(r) for r in _declared_console_routes()} <= {id(r) for r in app.routes}
    routes = console_routes(app)
    assert len(routes) >= 30
    assert all(_in_console_area(r.path) for r in routes)
    for route in routes:
        assert route.allow is None or (route.allow and route.allow <= STAFF), route.path
    # Only signing in is for visitors.
    assert {r.path for r in routes if r.allow is None} == {"/console/login"}


def test_a_cashier_may_open_only_the_till_and_signing_out(app: Any) -> None:
    cashier = {(m, p) for m, p, allow in calls(app, lambda r: r.allow is not None)
               if "cashier" in (allow or ())}
    assert ("POST", "/console/logout") in cashier
    assert all(p == "/till" or p.startswith("/till/") or p == "/console/logout"
               for _, p in cashier), cashier
    owner_only = {p for _, p, _ in calls(app, lambda r: r.allow == OWNER)}
    assert OWNER_PAGES <= owner_only
    # A manager runs the marketing: nothing but the owner's pages is closed to them.
    closed = {p for _, p, allow in calls(app, lambda r: r.allow is not None)
              if "manager" not in (allow or ())}
    assert closed == owner_only


def test_navigation_names_the_same_roles_as_its_pages(app: Any) -> None:
    pages = {r.path: r.allow for r in console_routes(app) if "GET" in (r.methods or ())}
    items = [item for d in DOMAINS for item in d.console_nav]
    assert {"staff", "stores", "settings"} <= {item.key for item in items}
    for item in items:
        assert item.path in pages, item.path
        assert item.allow == pages[item.path], item.key


async def _refused_everywhere(app: Any, staff: Console, services: Services,
                              role: str) -> int:
    """Every console call whose ``allow`` lacks ``role``: 403 role_forbidden, as JSON for an
    API client, with the session's valid CSRF token on state changes (so that the refusal
    is the role's); nothing changes. Returns how many calls were tried."""
    before = await _snapshot(services)
    tried = 0
    for method, path, allow in calls(app, lambda r: r.allow is not None):
        if role in (allow or ()):
            continue
        headers = {} if method == "GET" else {"X-CSRF-Token": staff.token}
        r = await staff.client.request(method, fill(path), headers=headers,
                                       data={"name": "x", "email": "a@b.example"}
                                       if method != "GET" else None)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "role_forbidden", (method, path)
        assert r.json()["error"]["details"] == {"role": role}
        tried += 1
    assert await _snapshot(services) == before
    return tried


async def test_a_cashier_gets_403_on_every_console_route_but_the_till(
        app: Any, shop: Console, services: Services) -> None:
    await add_user(services, shop.merchant, "cashier@shiguang.example", role="cashier")
    async with signed_in(app, shop.merchant, "cashier@shiguang.example") as cashier:
        tried = await _refused_everywhere(app, cashier, services, "cashier")
        assert tried >= 30
        # What the cashier may open opens (the till's pages, when the till is mounted).
        for method, path, _ in calls(app, lambda r: "cashier" in (r.allow or ())):
            if method == "GET":
                r = await cashier.get(fill(path))
                assert r.status_code not in (401, 403), path
        # A browser gets a page that says where the cashier works, with a big way there.
        page = await cashier.get("/console/members")
        assert page.status_code == 403
        assert 'data-role-forbidden="cashier"' in page.text
        assert "这个账号只能使用收银台" in page.text
        assert 'href="/till" data-action="open-till"' in page.text
        assert 'data-nav=' not in page.text  # no console navigation to pages they cannot open
        english = await cashier.client.get("/console/members?lang=en", headers=HTML)
        assert english.status_code == 403
        assert "This account can only use the till" in english.text
        # The console's home is for managers and owners: a cashier sees the same page.
        home = await cashier.get("/console")
        assert home.status_code == 403 and 'href="/till"' in home.text
        # htmx gets the JSON error (no page swapped into a fragment).
        r = await cashier.client.get("/console/campaigns",
                                     headers={**HTML, "HX-Request": "true"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "role_forbidden"
        # Signing out is theirs.
        r = await cashier.post("/console/logout")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


async def test_a_manager_gets_403_on_staff_stores_keys_and_settings(
        app: Any, shop: Console, services: Services) -> None:
    await add_user(services, shop.merchant, "manager@shiguang.example", role="manager")
    async with signed_in(app, shop.merchant, "manager@shiguang.example") as manager:
        tried = await _refused_everywhere(app, manager, services, "manager")
        assert tried >= len(OWNER_PAGES)
        page = await manager.get("/console/settings")
        assert page.status_code == 403 and "只有店主可以打开这个页面" in page.text
        for method, path, _ in calls(app, lambda r: "manager" in (r.allow or ())):
            if method == "GET":  # dummy ids: a 404 at worst, never a refusal
                r = await manager.get(fill(path))
                assert r.status_code not in (401, 403), path
        assert 'href="/console/campaigns"' in page.text
        # The rest of the console is theirs, and their navigation shows just that.
        coupons = await manager.get("/console/coupons")
        assert coupons.status_code == 200
        assert 'data-nav="coupons"' in coupons.text and 'data-nav="campaigns"' in coupons.text
        for key in ("staff", "stores", "settings"):
            assert f'data-nav="{key}"' not in coupons.text
    owner = await shop.get("/console/coupons")
    for key in ("coupons", "campaigns", "staff", "stores", "settings"):
        assert f'data-nav="{key}"' in owner.text


def _api_routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path, auth) of every documented API route that asks for credentials."""
    found = []
    for route in app.routes:
        doc = getattr(route, "openapi", None)
        if doc is None or doc.auth is None:
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path, doc.auth))
    return sorted(found)


async def test_the_console_cookie_reaches_only_the_api_routes_that_take_the_till(
        app: Any, shop: Console, services: Services, factory: Factory) -> None:
    await add_user(services, shop.merchant, "cashier@shiguang.example", role="cashier")
    routes = _api_routes(app)
    till = [(m, p) for m, p, auth in routes if auth == "merchant_or_till"]
    others = [(m, p) for m, p, auth in routes if auth != "merchant_or_till"]
    assert ("GET", "/api/v1/stores") in till and ("POST", "/api/v1/stores") in others
    assert len(others) >= 40
    async with signed_in(app, shop.merchant, "cashier@shiguang.example") as cashier:
        before = await _snapshot(services)
        csrf = {"X-CSRF-Token": cashier.token}
        # require_merchant takes a Bearer key alone: the cookie is nobody there.
        for method, path in others:
            r = await cashier.client.request(method, fill(path), json={},
                                             headers=csrf if method != "GET" else {})
            assert r.status_code in (401, 403), (method, path, r.status_code, r.text[:200])
        # The routes documented for the till take the cashier's session...
        for method, path in till:
            r = await cashier.client.request(method, fill(path), json={},
                                             headers=csrf if method != "GET" else {})
            assert r.status_code != 401, (method, path, r.text[:200])
            if r.status_code == 403:
                assert r.json()["error"]["code"] not in REFUSED, (method, path, r.text)
            # ...and a state change made with it must carry the session's CSRF token.
            if method != "GET":
                r = await cashier.client.request(method, fill(path), json={})
                assert r.status_code == 403, (method, path)
                assert r.json()["error"]["code"] == "csrf_failed"
    assert await _snapshot(services) == before
    # Without a session or a key, every one of them is 401.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                 base_url="http://testserver") as visitor:
        for method, path in till:
            r = await visitor.request(method, fill(path), json={})
            assert r.status_code in (401, 403), (method, path)


async def test_signing_in_lands_each_role_where_it_works(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await add_user(services, shop, "cashier@example.com", role="cashier")
    await add_user(services, shop, "manager@example.com", role="manager")
    cases = [("cashier@example.com", "", "/till"),
             ("cashier@example.com", "/console/members", "/till"),
             ("cashier@example.com", "/till", "/till"),
             ("cashier@example.com", "/till/receipts?x=1", "/till/receipts?x=1"),
             ("cashier@example.com", "//evil.example/till", "/till"),
             ("cashier@example.com", "/tillx", "/till"),
             ("manager@example.com", "", "/console/campaigns"),
             ("manager@example.com", "/till", "/till"),
             ("manager@example.com", "/console/members", "/console/members"),
             ("manager@example.com", "/tills", "/console/campaigns")]
    for email, next_path, landing in cases:
        client.cookies.clear()
        r = await login(client, email, next_path=next_path)
        assert r.status_code == 303 and r.headers["location"] == landing, (email, next_path)
    # Signed in already, the sign-in page sends a cashier on to the till as well.
    client.cookies.clear()
    await login(client, "cashier@example.com")
    r = await client.get("/console/login?next=/console/coupons", headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/till"
