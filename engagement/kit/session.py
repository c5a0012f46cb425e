"""The member's browser session: the member token in an HttpOnly cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.kit.constants import MEMBER_COOKIE
from engagement.kit.state import Services


def safe_next(value: str | None, default: str = "/m") -> str:
    """Only paths on this site: an open redirect would lend the merchant's name to phishing."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def sign_out(response: Response) -> None:
    """Forget the member on this browser: the token itself stays valid (the merchant may
    have sent it in a link), the cookie that carried it goes."""
    response.delete_cookie(MEMBER_COOKIE, httponly=True, samesite="lax")


def sign_in(request: Request, response: Response, token: str) -> None:
    svc: Services = request.app.state.services
    response.set_cookie(MEMBER_COOKIE, token, httponly=True, samesite="lax",
                        secure=svc.settings.public_url.startswith("https://"),
                        max_age=svc.settings.member_token_ttl_hours * 3600)
