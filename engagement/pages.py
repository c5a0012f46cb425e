"""Member-facing pages of the core: sign-in through an entry_url, and the member home."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import member_from_secret, optional_member, services
from engagement.constants import MEMBER_COOKIE
from engagement.members import queries
from engagement.security import MEMBER_TOKEN_PREFIX
from engagement.web import render


async def enter(request: Request) -> Response:
    """Opening a member token's entry_url signs the member in (cookie) and lands on home."""
    token = request.query_params.get("token", "")
    principal = None
    if token.startswith(MEMBER_TOKEN_PREFIX):
        principal = await member_from_secret(request, token)
    if principal is None:
        return render(request, "message.html", {
            "title": "链接已失效", "message": "这个登录链接无效或已过期，请向商家重新获取。"},
            status=401)
    next_url = request.query_params.get("next", "/m")
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = "/m"
    response = RedirectResponse(next_url, status_code=303)
    secure = services(request).settings.public_url.startswith("https://")
    response.set_cookie(MEMBER_COOKIE, token, httponly=True, samesite="lax", secure=secure,
                        max_age=services(request).settings.member_token_ttl_hours * 3600)
    return response


async def home(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return render(request, "message.html", {
            "title": "请先登录", "message": "请通过商家发给你的链接进入会员中心。"}, status=401)
    member = await queries.member_by_id(services(request).pool, principal.merchant.id,
                                        principal.member_id)
    return render(request, "home.html", {"merchant": principal.merchant, "member": member})


routes = [
    Route("/m/enter", enter, methods=["GET"]),
    Route("/m", home, methods=["GET"]),
]
