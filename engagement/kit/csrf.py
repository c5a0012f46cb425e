"""Anti-CSRF tokens for state changes made by a browser with a session cookie (the member
cookie, or the console's).

The cookies are SameSite=Lax, which already keeps them off cross-site POSTs; the token is
the second lock (sibling subdomains, old browsers). Each browser gets a random secret in an
HttpOnly cookie; pages carry HMAC(secret_key, that secret and the session the page was made
for) in a meta tag and in forms, and a state-changing request must send it back (header
``X-CSRF-Token`` or form field ``csrf_token``). A subdomain that plants its own cookie still
cannot mint a matching token.

Why the session is in it: with the browser's secret alone, a token lifted from any page of
the browser (a member page, a page left open before signing in as someone else) would pass
in the console. The console's pages and state changes are bound to the console session
(its cookie's digest), every other page to the member session (the member cookie's), and a
page shown without one (the console's sign-in form, the join page) to "nobody" in its area,
which no longer passes once the browser signs in. A page made before a session ended keeps
its binding as long as the browser holds the same cookie, so its form still reaches the
sign-in redirect rather than a 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from engagement.kit.constants import CONSOLE_COOKIE, CSRF_COOKIE, MEMBER_COOKIE
from engagement.kit.errors import Forbidden

HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = "This request lacks a valid CSRF token; reload the page and try again."


def _secret_key(request: Request) -> str:
    key: str = request.app.state.services.secret_key
    return key


# Where the console's session is the one a request acts in: the console and the till.
CONSOLE_AREAS = ("/console", "/till")


def _binding(request: Request, area: str | None = None) -> str:
    """The session this request acts in: the console's under /console and /till (or when
    the caller says so: the till's calls to the API), the member's everywhere else."""
    path = request.url.path
    if area is None:
        console = any(path == a or path.startswith(f"{a}/") for a in CONSOLE_AREAS)
        area = "console" if console else "member"
    if area == "console":
        session = request.cookies.get(CONSOLE_COOKIE)
    else:
        area, session = "member", request.cookies.get(MEMBER_COOKIE)
    if not session:
        return f"{area}:nobody"
    return f"{area}:{hashlib.sha256(session.encode()).hexdigest()}"


def _sign(secret_key: str, secret: str, binding: str) -> str:
    # The binding first: its shape is fixed, so no cookie value can shift the boundary.
    message = f"csrf:{binding}:{secret}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def page_token(request: Request) -> tuple[str, str | None]:
    """The token for this page, and a new cookie secret to set when the browser has none."""
    secret = request.cookies.get(CSRF_COOKIE)
    fresh = None
    if not secret or len(secret) > 64:
        secret = fresh = secrets.token_urlsafe(24)
    return _sign(_secret_key(request), secret, _binding(request)), fresh


def set_cookie(request: Request, response: Response, value: str) -> None:
    secure = request.app.state.services.settings.public_url.startswith("https://")
    response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="lax", secure=secure)


def verify(request: Request, supplied: str | None, area: str | None = None) -> None:
    """``area``: "console" for an API call made with the console's cookie (the till)."""
    secret = request.cookies.get(CSRF_COOKIE)
    if not secret or not supplied:
        raise CsrfFailed()
    if not hmac.compare_digest(_sign(_secret_key(request), secret, _binding(request, area)),
                               supplied):
        raise CsrfFailed()
