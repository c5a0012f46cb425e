"""Member-facing pages of the core: sign-in through an entry_url, and the member home."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement import home as home_sections
from engagement.auth import member_from_secret, optional_member
from engagement.coupons import queries as coupon_queries
from engagement.home import HomeSection
from engagement.kit import csrf
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.security import MEMBER_TOKEN_PREFIX
from engagement.kit.session import safe_next, sign_in, sign_out
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.members import queries
from engagement.members.schemas import MemberPrincipal

# The home page lists this many coupons; older ones stay reachable over the API.
HOME_COUPONS = 50


async def enter(request: Request) -> Response:
    """Opening a member token's entry_url signs the member in (cookie) and lands on home."""
    token = request.query_params.get("token", "")
    principal = None
    if token.startswith(MEMBER_TOKEN_PREFIX):
        principal = await member_from_secret(request, token)
    if principal is None:
        return render(request, "message.html", {
            "title": N_("链接已失效"),
            "message": N_("这个登录链接无效或已过期，请向商家重新获取。")}, status=401)
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    sign_in(request, response, token)
    return response


async def home(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    member = await queries.member_by_id(services(request).pool, principal.merchant.id,
                                        principal.member_id)
    if member is None:
        return signed_out(request)
    return render(request, "home.html", {
        "merchant": principal.merchant, "member": member,
        "sections": await home_sections.sections(request, principal)})


async def leave(request: Request) -> Response:
    """退出登录: a form post (with the page's CSRF token), so no link or image can sign a
    member out; then the signed-out page, which says how to come back."""
    form = await read_form(request)
    try:
        csrf.verify(request, form.get(csrf.FORM_FIELD))
    except csrf.CsrfFailed:  # a stale page, or a post from another site: still signed in
        return render(request, "message.html", {
            "title": N_("页面已过期"), "message": N_("请回到会员中心，再点一次「退出登录」。")},
            status=403)
    message = N_("下次通过商家发给你的链接，或在门店扫码加入页输入手机号，即可回到会员中心。")
    response = render(request, "message.html", {"title": N_("已退出登录"),
                                                "message": message})
    sign_out(response)
    return response


def signed_out(request: Request) -> Response:
    """The page a member page shows to a visitor who is not signed in (the other member
    pages use it too)."""
    return render(request, "message.html", {
        "title": N_("请先登录"), "message": N_("请通过商家发给你的链接进入会员中心。")}, status=401)


async def coupons_section(request: Request, principal: MemberPrincipal) -> HomeSection:
    rows = await coupon_queries.coupons_of_member(services(request).pool, principal.member_id,
                                                  None, HOME_COUPONS)
    return HomeSection("_coupons.html", {"coupons": rows}, order=20)



routes = [
    Route("/m/enter", enter, methods=["GET"]),
    Route("/m", home, methods=["GET"]),
    Route("/m/sign-out", leave, methods=["POST"]),
]
