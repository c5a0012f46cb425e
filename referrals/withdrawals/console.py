"""The console's withdrawal page (/console/withdrawals, owner and manager): members'
requests by status; a requested one is paid (the merchant says how the money left, and
its receipt number) or rejected with a reason, through the same service as the API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.console.forms import TOO_LARGE, Form
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, redirect, render_page
from engagement.kit.domain import NavItem
from engagement.kit.errors import NotFound
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from referrals.errors import WithdrawalAlreadyPaid, WithdrawalAlreadyRejected
from referrals.withdrawals import queries, service
from referrals.withdrawals.schemas import PAY_METHODS, PayIn

PATH = "/console/withdrawals"
ROWS = 100
NAV = NavItem("withdrawals", PATH, N_("佣金提现"), order=41)  # owner and manager
NOTICES = {"withdrawal_paid": N_("已记录打款"),
           "withdrawal_rejected": N_("已拒绝，金额已退回会员的可提现佣金"),
           "withdrawal_decided": N_("这笔提现已经处理过了，列表已刷新")}
TABS = (("requested", N_("待处理")), ("paid", N_("已打款")), ("rejected", N_("已拒绝")))
_STATUSES = {key for key, _ in TABS}


def _status(request: Request) -> str:
    status = request.query_params.get("status", "requested")
    return status if status in _STATUSES else "requested"


async def _page(request: Request, user: ConsoleUser, status: str, *,
                errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                open_id: str | None = None, code: int = 200) -> Response:
    pool = services(request).pool
    rows = await queries.of_merchant(pool, user.merchant.id, status, None, ROWS)
    return render_page(request, user, "console/withdrawals.html", {
        "rows": rows, "status": status, "tabs": TABS,
        "counts": await queries.counts(pool, user.merchant.id),
        "methods": [(m, service.PAY_METHOD_LABELS[m]) for m in PAY_METHODS],
        "method_labels": service.PAY_METHOD_LABELS,
        "errors": errors or {}, "form": form or {}, "open_id": open_id},
        status=code, active="withdrawals")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user, _status(request))


def _decided() -> Response:
    return redirect(f"{PATH}?status=requested", "withdrawal_decided")


async def _requested_id(request: Request, user: ConsoleUser) -> str:
    """The path's withdrawal, which must be this merchant's (404 before the form is read)."""
    withdrawal_id: str = request.path_params["withdrawal_id"]
    if await queries.by_id(services(request).pool, user.merchant.id, withdrawal_id) is None:
        raise NotFound("No such withdrawal.")
    return withdrawal_id


async def pay(request: Request, user: ConsoleUser) -> Response:
    withdrawal_id = await _requested_id(request, user)
    data = await read_form(request)
    form = Form(data)
    method = data.get("method", "")
    if method not in PAY_METHODS:
        form.errors["method"] = N_("请选择打款方式")
    reference = form.text("reference", max_length=100)
    if form.errors.get("reference") == TOO_LARGE:
        form.errors["reference"] = N_("交易单号最多 100 个字符")
    if form.errors:
        return await _page(request, user, "requested", errors=form.errors, form=data,
                           open_id=f"pay-{withdrawal_id}", code=422)
    svc = services(request)
    try:
        async with svc.unit() as unit:
            await service.pay(unit.conn, user.merchant.id, withdrawal_id,
                              PayIn.model_validate({"method": method, "reference": reference}),
                              svc.clock.now())
    except (WithdrawalAlreadyPaid, WithdrawalAlreadyRejected):
        return _decided()
    return redirect(f"{PATH}?status=paid", "withdrawal_paid")


async def reject(request: Request, user: ConsoleUser) -> Response:
    withdrawal_id = await _requested_id(request, user)
    data = await read_form(request)
    form = Form(data)
    reason = form.text("reason", required=True, max_length=200)
    if form.errors.get("reason") == TOO_LARGE:
        form.errors["reason"] = N_("原因最多 200 个字")
    if form.errors:
        return await _page(request, user, "requested", errors=form.errors, form=data,
                           open_id=f"reject-{withdrawal_id}", code=422)
    svc = services(request)
    try:
        async with svc.unit() as unit:
            await service.reject(unit.conn, user.merchant.id, withdrawal_id, reason,
                                 svc.clock.now())
    except (WithdrawalAlreadyPaid, WithdrawalAlreadyRejected):
        return _decided()
    return redirect(f"{PATH}?status=rejected", "withdrawal_rejected")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(f"{PATH}/{{withdrawal_id}}/pay", pay, methods=("POST",), allow=MANAGERS),
          page_route(f"{PATH}/{{withdrawal_id}}/reject", reject, methods=("POST",),
                     allow=MANAGERS)]
