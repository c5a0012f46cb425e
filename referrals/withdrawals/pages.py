"""The withdrawal form of the referrer page (/m/referrals): a plain form post in two steps.
The first post checks the amount and shows a confirmation with a fresh key; the second,
with that key, makes the request through the same service and Idempotency-Key store as
``POST /api/v1/me/withdrawals``, so a double tap or a resent form is one withdrawal."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.console.forms import Form
from engagement.kit import csrf
from engagement.kit.formats import money
from engagement.kit.http import read_form, request_hash
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.members.schemas import MemberPrincipal
from engagement.points import service as points
from referrals.errors import BelowMinWithdrawal, InsufficientCommission
from referrals.ledger import service as ledger
from referrals.pages import render_mine, signed_out
from referrals.withdrawals import service
from referrals.withdrawals.routes import scope

PATH = "/m/referrals/withdrawals"
BELOW_MIN = N_("每次提现不少于 %(amount)s")
TOO_MUCH = N_("最多可提现 %(amount)s")
NOTHING = N_("现在没有可提现的佣金")


def _key(value: str | None) -> str | None:
    """The confirmation's key, as the API would take it in the Idempotency-Key header."""
    if value and 0 < len(value) <= 128 and value.isprintable():
        return value
    return None


async def _refusal(request: Request, principal: MemberPrincipal, amount: int,
                   form: dict[str, str]) -> Response | None:
    """The page with the reason, when ``amount`` is below the minimum or above what is
    available now; None when the amount can be asked for."""
    pool = services(request).pool
    minimum = await service.min_withdrawal(pool, principal.merchant.id)
    available = (await ledger.balance(pool, principal.member_id)).available
    if available <= 0:
        return await render_mine(request, principal, form=form, error=NOTHING, status=409)
    if amount < minimum:
        return await render_mine(request, principal, form=form, error=BELOW_MIN,
                                 error_params={"amount": money(minimum)}, status=422)
    if amount > available:
        return await render_mine(request, principal, form=form, error=TOO_MUCH,
                                 error_params={"amount": money(available)}, status=409)
    return None


async def withdraw(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    data = await read_form(request)
    try:
        csrf.verify(request, data.get(csrf.FORM_FIELD))
    except csrf.CsrfFailed:
        return render(request, "message.html", {
            "title": N_("页面已过期"), "message": N_("请回到邀请页，重新填写提现金额。")},
            status=403)
    form = Form(data)
    amount = form.yuan("amount", required=True)
    shown = {"amount": data.get("amount", "")}
    if form.errors or amount is None:
        return await render_mine(request, principal, form=shown,
                                 error=form.errors.get("amount"), status=422)
    if amount <= 0:
        return await render_mine(request, principal, form=shown, error=N_("请输入大于 0 的金额"),
                                 status=422)
    key = _key(data.get("key"))
    if data.get("step") != "confirm" or key is None:
        refused = await _refusal(request, principal, amount, shown)
        if refused is not None:
            return refused
        return await render_mine(request, principal, form=shown, confirm={
            "amount": amount, "key": secrets.token_urlsafe(18)})
    svc = services(request)
    now = svc.clock.now()
    merchant_id, member_id = principal.merchant.id, principal.member_id
    try:
        async with svc.unit() as unit:
            await points.respond_once(
                unit.conn, merchant_id, scope(member_id), key,
                request_hash("/api/v1/me/withdrawals", {"amount": amount}), now,
                lambda: service.request(unit.conn, merchant_id, member_id, amount, now))
    except (BelowMinWithdrawal, InsufficientCommission):
        # Another request (another tab, the API) spent it meanwhile: say what is left.
        refused = await _refusal(request, principal, amount, shown)
        if refused is not None:
            return refused
        raise
    return RedirectResponse("/m/referrals?notice=withdrawal_requested#withdraw",
                            status_code=303)


routes = [Route(PATH, withdraw, methods=["POST"])]
