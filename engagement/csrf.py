"""Anti-CSRF tokens for state changes made by a browser with the member cookie.

The member cookie is SameSite=Lax, which already keeps it off cross-site POSTs; the token is
the second lock (sibling subdomains, old browsers). Each browser gets a random secret in an
HttpOnly cookie; pages carry HMAC(secret_key, that secret) in a meta tag and in forms, and a
state-changing request must send it back (header ``X-CSRF-Token`` or form field
``csrf_token``). A subdomain that plants its own cookie still cannot mint a matching token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from engagement.constants import CSRF_COOKIE
from engagement.errors import Forbidden

HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = "This request lacks a valid CSRF token; reload the page and try again."


def _secret_key(request: Request) -> str:
    key: str = request.app.state.services.secret_key
    return key


def _sign(secret_key: str, value: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + value.encode(), hashlib.sha256).hexdigest()


def page_token(request: Request) -> tuple[str, str | None]:
    """The token for this page, and a new cookie secret to set when the browser has none."""
    secret = request.cookies.get(CSRF_COOKIE)
    fresh = None
    if not secret or len(secret) > 64:
        secret = fresh = secrets.token_urlsafe(24)
    return _sign(_secret_key(request), secret), fresh


def set_cookie(request: Request, response: Response, value: str) -> None:
    secure = request.app.state.services.settings.public_url.startswith("https://")
    response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="lax", secure=secure)


def verify(request: Request, supplied: str | None) -> None:
    secret = request.cookies.get(CSRF_COOKIE)
    if not secret or not supplied:
        raise CsrfFailed()
    if not hmac.compare_digest(_sign(_secret_key(request), secret), supplied):
        raise CsrfFailed()
