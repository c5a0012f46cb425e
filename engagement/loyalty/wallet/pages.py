"""储值余额 (/m/balance): the member's balance, its principal and bonus, the ledger with each
kind in words, and the payment PIN set or changed (a plain form, CSRF-checked like the
profile's); and the balance's card on the member home, which links here."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.home import HomeSection
from engagement.kit import csrf
from engagement.kit.errors import InvalidInput
from engagement.kit.http import parse_query, read_form
from engagement.kit.i18n import N_
from engagement.kit.pagination import PageQuery
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.loyalty.wallet import pins, queries, service
from engagement.loyalty.wallet.console import KINDS
from engagement.loyalty.wallet.schemas import BalancePinIn
from engagement.members.schemas import MemberPrincipal
from engagement.pages import signed_out

PAGE = "/m/balance"
PAGE_SIZE = 30
SAVED = N_("支付密码已设置")
ERRORS = {
    "format": N_("支付密码是 6 位数字，两次要输入一样。"),
    "old_required": N_("修改支付密码要先输入原密码。"),
    "bad_pin": N_("原支付密码不对。连续输错 5 次会锁定 15 分钟。"),
    "pin_locked": N_("密码输错太多次，已锁定，请 15 分钟后再试。"),
    "expired": N_("页面已过期，请刷新后重试。"),
}


async def balance_page(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    error = request.query_params.get("error")
    return await _render(request, principal,
                         notice=SAVED if request.query_params.get("saved") == "1" else None,
                         error=ERRORS.get(error or ""))


async def _render(request: Request, principal: MemberPrincipal, *, notice: str | None = None,
                  error: str | None = None, status: int = 200) -> Response:
    page = parse_query(request, PageQuery)
    svc = services(request)
    out = await service.balance(svc.pool, principal.merchant.id, principal.member_id,
                                page.cursor, PAGE_SIZE, svc.clock.now())
    return render(request, "balance.html", {
        "merchant": principal.merchant, "wallet": out, "kinds": KINDS, "notice": notice,
        "error": error, "first_page": page.cursor is None}, status=status)


async def save_pin(request: Request) -> Response:
    form = await read_form(request)
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    try:
        csrf.verify(request, form.get(csrf.FORM_FIELD))
    except csrf.CsrfFailed:
        return await _render(request, principal, error=ERRORS["expired"], status=403)
    if form.get("pin", "") != form.get("pin_again", ""):
        return _back("format")
    try:
        data = BalancePinIn.model_validate({"pin": form.get("pin", ""),
                                            "old_pin": form.get("old_pin") or None})
        svc = services(request)
        await pins.set_pin(svc.pool, principal.merchant.id, principal.member_id, data.pin,
                           data.old_pin, svc.clock.now())
    except ValidationError:
        return _back("format")
    except InvalidInput:
        return _back("old_required")
    except pins.BadPin:
        return _back("bad_pin")
    except pins.PinLocked:
        return _back("pin_locked")
    return RedirectResponse(f"{PAGE}?saved=1#pin", status_code=303)


def _back(error: str) -> Response:
    return RedirectResponse(f"{PAGE}?error={error}#pin", status_code=303)


async def home_card(request: Request, principal: MemberPrincipal) -> HomeSection | None:
    """The balance on the member home, when the member has one or the merchant sells
    top-ups."""
    pool = services(request).pool
    principal_part, bonus = await queries.totals(pool, principal.member_id)
    if principal_part + bonus == 0 and not await queries.plans(pool, principal.merchant.id):
        return None
    return HomeSection("_wallet_card.html", {"balance": principal_part + bonus}, order=6)


routes = [Route(PAGE, balance_page, methods=["GET"]),
          Route(PAGE + "/pin", save_pin, methods=["POST"])]
