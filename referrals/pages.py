"""The referral pages: a share link's landing page (/r/{code}) with its QR code, the
referrer's own page (/m/referrals), and the referral card on the member home."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.coupons import queries as coupon_queries
from engagement.home import HomeSection
from engagement.kit.errors import NotFound
from engagement.kit.qr import qr_svg_document
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.members.schemas import MemberPrincipal
from engagement.merchants import queries as merchant_queries
from referrals import binding, queries, service
from referrals.ledger import queries as ledger_queries
from referrals.ledger import service as ledger
from referrals.phones import mask_phone
from referrals.withdrawals import queries as withdrawal_queries
from referrals.withdrawals import service as withdrawal_service

# Ledger lines shown on the referrer page; the full ledger is in the merchant API.
RECENT_ENTRIES = 20
RECENT_WITHDRAWALS = 10


async def landing(request: Request) -> Response:
    svc = services(request)
    code = binding.normalise_code(request.path_params["code"])
    link = await queries.link_by_code(svc.pool, code)
    if link is None:
        raise NotFound("No such share link.")
    merchant = await merchant_queries.merchant_by_id(svc.pool, link["merchant_id"])
    sharer = await queries.member_brief(svc.pool, link["member_id"])
    assert merchant is not None and sharer is not None
    program = await queries.program(svc.pool, merchant.id)
    template = None
    if link["coupon_template_id"] and program is not None and program["enabled"]:
        template = await coupon_queries.template_by_id(svc.pool, merchant.id,
                                                       link["coupon_template_id"])
    viewer = await optional_member(request)
    if viewer is not None and viewer.merchant.id != merchant.id:
        viewer = None  # a member of another shop is a visitor here
    url = service.link_out(link, svc.settings.public_url).url
    return render(request, "referrals/landing.html", {
        "merchant": merchant, "code": code, "url": url,
        "sharer_name": sharer["name"], "sharer_phone": mask_phone(sharer["phone"])
        if sharer["phone"] else "",
        "template": template, "active": program is not None and program["enabled"],
        "viewer": viewer, "own_link": viewer is not None and viewer.member_id == sharer["id"],
        "join_url": f"/j/{merchant.slug}?{urlencode({'share': code, 'next': '/m'})}"})




async def qr(request: Request) -> Response:
    svc = services(request)
    link = await queries.link_by_code(svc.pool, binding.normalise_code(
        request.path_params["code"]))
    if link is None:
        raise NotFound("No such share link.")
    return Response(qr_svg_document(service.link_out(link, svc.settings.public_url).url),
                    media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


async def mine(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    notice = request.query_params.get("notice")
    return await render_mine(request, principal,
                             notice=notice if notice in MINE_NOTICES else None)


def signed_out(request: Request) -> Response:
    return render(request, "message.html", {
        "title": "请先登录", "message": "请通过商家发给你的链接进入会员中心。"}, status=401)


# Confirmations the referrer page shows after a redirect (?notice=key).
MINE_NOTICES = {"withdrawal_requested"}


async def render_mine(request: Request, principal: MemberPrincipal, *,
                      form: dict[str, str] | None = None, error: str | None = None,
                      error_params: dict[str, str] | None = None,
                      confirm: dict[str, Any] | None = None, notice: str | None = None,
                      status: int = 200) -> Response:
    """The referrer page: balances, the share link, invitees, the withdrawal form (or its
    confirmation step, ``confirm``: the amount and the form's idempotency key) and the
    recent ledger and withdrawals."""
    svc = services(request)
    async with svc.unit() as unit:
        view = await service.my_referrals(unit.conn, principal.merchant.id,
                                          principal.member_id, svc.clock.now(),
                                          svc.settings.public_url, create_link=True)
        entries = await ledger_queries.entries_of_member(unit.conn, principal.member_id, None,
                                                  RECENT_ENTRIES)
        program = await queries.program(unit.conn, principal.merchant.id)
        withdrawals = await withdrawal_queries.of_member(unit.conn, principal.member_id,
                                                         RECENT_WITHDRAWALS)
        minimum = await withdrawal_service.min_withdrawal(unit.conn, principal.merchant.id)
    return render(request, "referrals/mine.html", {
        "merchant": principal.merchant, "view": view, "program": program,
        "entries": [service.commission_out(e) for e in entries],
        "withdrawals": withdrawals, "min_withdrawal": minimum, "form": form or {},
        "error": error, "error_params": error_params or {}, "confirm": confirm,
        "notice": notice, "pay_method_labels": withdrawal_service.PAY_METHOD_LABELS},
        status=status)


async def home_card(request: Request, principal: MemberPrincipal) -> HomeSection | None:
    pool = services(request).pool
    program = await queries.program(pool, principal.merchant.id)
    if program is None or not program["enabled"]:
        return None
    return HomeSection("referrals/_home_card.html",
                       {"balance": await ledger.balance(pool, principal.member_id)}, order=40)



routes = [
    Route("/r/{code}", landing, methods=["GET"]),
    Route("/r/{code}/qr.svg", qr, methods=["GET"]),
    Route("/m/referrals", mine, methods=["GET"]),
]
