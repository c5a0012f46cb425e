"""积分商城 (/m/mall): the merchant's rewards with their price in points and the stock left,
the member's balance, and redeeming one after a confirmation sheet.

static/js/mall.js opens the sheet ("用 300 积分兑换 …？"), posts to the API with one
Idempotency-Key per confirmation (a double tap, or a retry after a lost answer, redeems
once) and shows the coupon. Without the script the 兑换 link opens the same sheet from the
server (``?confirm=``), whose form posts to ``/m/mall/redeem`` with a key made for that
confirmation, then redirects to the coupon (``?redeemed=``) or to the refusal
(``?refused=``)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.kit import csrf
from engagement.kit.errors import AppError
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.loyalty.mall import queries, service
from engagement.members import queries as member_queries
from engagement.pages import signed_out

MALL = "/m/mall"
# A café lists a handful of rewards; the page shows up to this many, newest first.
MALL_REWARDS = 100
# What the sheet says when a redemption is refused, by error code. Nothing was taken.
REFUSALS = {
    "insufficient_points": N_("积分不足，兑换这件需要 %(cost)s 积分。"),
    "reward_out_of_stock": N_("手慢了，这件已经兑完了。积分没有扣。"),
    "insufficient_inventory": N_("这张券暂时发完了，积分没有扣，请稍后再来。"),
    "coupon_limit_reached": N_("你已领到这张券的上限，积分没有扣。"),
    "not_found": N_("这件已经下架了，积分没有扣。"),
    csrf.CsrfFailed.code: N_("页面已过期，请刷新后重试。"),
    "error": N_("兑换没有成功，请稍后再试。积分没有扣。"),
}
_KEY = re.compile(r"^[0-9a-f]{32}$")


async def mall_page(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    pool = services(request).pool
    merchant = principal.merchant
    member = await member_queries.member_by_id(pool, merchant.id, principal.member_id)
    if member is None:
        return signed_out(request)
    rewards = await service.list_rewards(pool, merchant.id, None, MALL_REWARDS)
    params = request.query_params
    confirm = next((r for r in rewards if r.id == params.get("confirm")), None)
    redeemed = None
    if params.get("redeemed"):
        redeemed = await queries.redemption_of_member(pool, merchant.id, principal.member_id,
                                                      params["redeemed"])
    refused = params.get("refused")
    return render(request, "mall.html", {
        "merchant": merchant, "member": member, "rewards": rewards, "refusals": REFUSALS,
        "confirm": confirm, "redeemed": redeemed,
        "refused": refused if refused in REFUSALS else None,
        # The no-script sheet's key: one per confirmation shown, so resending its form
        # (a double tap, a reload of the post) redeems once.
        "confirm_key": secrets.token_hex(16) if confirm is not None else None})


async def redeem_form(request: Request) -> Response:
    form = await read_form(request)
    principal = await optional_member(request)
    if principal is None:
        return RedirectResponse(MALL, status_code=303)
    reward_id = form.get("reward_id", "")
    key = form.get("key", "")
    try:
        csrf.verify(request, form.get(csrf.FORM_FIELD))
        if not _KEY.match(key):  # not a key this page made: refuse rather than redeem twice
            raise csrf.CsrfFailed()
        svc = services(request)
        async with svc.unit() as unit:
            _, body = await service.redeem_once(unit.conn, principal.merchant.id,
                                                principal.member_id, reward_id,
                                                svc.clock.now(), key=key)
    except AppError as exc:
        code = exc.code if exc.code in REFUSALS else "error"
        query = urlencode({"confirm": reward_id, "refused": code})
        return RedirectResponse(f"{MALL}?{query}#sheet", status_code=303)
    return RedirectResponse(f"{MALL}?{urlencode({'redeemed': body['id']})}#sheet",
                            status_code=303)


routes = [
    Route(MALL, mall_page, methods=["GET"]),
    Route(f"{MALL}/redeem", redeem_form, methods=["POST"]),
]
