"""The member code (会员码) on the member's side: the API that hands out a fresh code, the
QR image of a live code, and the member home's card that shows it.

The home renders the first code itself (so the card works before, and without, its
script); static/js/member-code.js then fetches a new code every
MEMBER_CODE_REFRESH_SECONDS and on a tap, and swaps in its QR image from this module's
SVG route. The page has no inline script (strict CSP), hence an image URL per code
rather than markup built in the browser."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.auth import require_member
from engagement.home import HomeSection
from engagement.kit.constants import MEMBER_CODE_REFRESH_SECONDS, MEMBER_CODE_TTL_SECONDS
from engagement.kit.errors import NotFound
from engagement.kit.http import ApiDoc, api_route, json_response
from engagement.kit.qr import qr_svg_document
from engagement.kit.state import services
from engagement.members import member_codes
from engagement.members.schemas import MemberCodeOut, MemberPrincipal

TAG = "Members"
# A code is never kept by any cache: a stored copy is what a screenshot would be.
_NO_STORE = {"Cache-Control": "no-store"}
# Digits are shown in groups of this size under the QR code, to be read out to a cashier.
GROUP = 6


def grouped(code: str) -> str:
    return " ".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


async def _issue(request: Request, principal: MemberPrincipal) -> MemberCodeOut:
    svc = services(request)
    code, expires_at = await member_codes.issue(svc.redis, principal.merchant.id,
                                                principal.member_id, svc.clock.now())
    return MemberCodeOut(code=code, expires_at=expires_at)


async def my_member_code(request: Request) -> Response:
    principal = await require_member(request)
    return json_response(await _issue(request, principal), headers=_NO_STORE)


async def member_code_svg(request: Request) -> Response:
    """The QR code of one of the member's own live codes; an expired code, or someone
    else's, is a 404 like an unknown one."""
    principal = await require_member(request)
    code = request.path_params["code"]
    owner = await member_codes.resolve(services(request).redis, principal.merchant.id, code)
    if owner != principal.member_id:
        raise NotFound("No such member code.")
    return Response(qr_svg_document(code), media_type="image/svg+xml", headers=_NO_STORE)


async def home_card(request: Request, principal: MemberPrincipal) -> HomeSection:
    code = await _issue(request, principal)
    return HomeSection("_member_code.html", {
        "code": code.code, "digits": grouped(code.code),
        "refresh_seconds": MEMBER_CODE_REFRESH_SECONDS,
        "ttl_seconds": MEMBER_CODE_TTL_SECONDS}, order=10)


routes = [
    api_route("/api/v1/me/member-code", my_member_code, "GET", ApiDoc(
        f"A fresh member code (会员码) for the till, valid {MEMBER_CODE_TTL_SECONDS // 60} "
        "minutes; the member home shows it as a QR code and fetches a new one every "
        "minute", TAG, auth="member", response=MemberCodeOut)),
    Route("/m/member-code/{code}.svg", member_code_svg, methods=["GET"]),
]
