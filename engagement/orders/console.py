"""The console's order pages (managers and the owner): the merchant's orders, newest first,
by store and day; one order with its coupons and refunds; the refund form; the orders CSV.

Refunds go through the same ``service.create_refund`` as the API. Each rendering of the
refund form carries a fresh refund id, sent as ``RefundCreate.id``: a form posted twice (a
double tap, a resubmitted page) is a replay of the first refund, never a second one."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console.export import Yuan, csv_response
from engagement.console.forms import Form
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, redirect, render_page
from engagement.kit import i18n
from engagement.kit.errors import InvalidInput, NotFound
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.orders import days, queries, service
from engagement.orders.schemas import RefundCreate
from engagement.stores.filters import store_param, stores_of

ORDERS_PER_PAGE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

NOTICES = {
    "refund_done": N_("退款已完成"),
    "refund_coupons_back": N_("退款已完成，订单用的券已退回会员账户"),
}
_REFUND_ERRORS = {
    "refund_exceeds_paid": N_("超过可退金额：这笔订单最多还能退 %(amount)s"),
    "refund_conflict": N_("这笔退款已经提交过，但金额不同。请刷新页面后重新填写。"),
    "bad_refund_id": N_("页面已过期，请刷新后重试"),
    "not_positive": N_("退款金额必须大于 0"),
}


def cursor_of(at: datetime, order_id: str) -> str:
    """A page boundary: microseconds since 1970, then the order id (ids are the merchant's
    own, not time-ordered, so the time leads)."""
    return f"{(at - _EPOCH) // _MICRO}:{order_id}"


def parse_cursor(raw: str | None, field: str) -> tuple[datetime, str] | None:
    if not raw:
        return None
    micros, _, order_id = raw.partition(":")
    if not (micros.isdigit() and len(micros) <= 18 and order_id
            and len(order_id) <= 128 and order_id.isprintable()):
        raise InvalidInput("Not a page of this list.", fields=[{"field": field}])
    return _EPOCH + int(micros) * _MICRO, order_id


def yuan_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def yuan_shown(cents: int) -> str:
    """As the console's pages show money: ¥1,234.50."""
    return f"¥{cents // 100:,}.{cents % 100:02d}"


async def _filters(request: Request, user: ConsoleUser) -> dict[str, Any]:
    store = await store_param(request, user.merchant.id)
    day = days.parse(request.query_params.get("day"), "day")
    return {"store": store, "day": day}


async def orders_page(request: Request, user: ConsoleUser) -> Response:
    found = await _filters(request, user)
    before = parse_cursor(request.query_params.get("before"), "before")
    since, until = (days.bounds(found["day"], user.merchant.time_zone) if found["day"]
                    else (None, None))
    # One row more than a page says whether there is a next page.
    rows = await queries.orders_listed(
        services(request).pool, user.merchant.id,
        store_id=found["store"]["id"] if found["store"] else None, since=since, until=until,
        before=before, limit=ORDERS_PER_PAGE + 1)
    page = rows[:ORDERS_PER_PAGE]
    more = cursor_of(page[-1]["created_at"], page[-1]["id"]) \
        if len(rows) > ORDERS_PER_PAGE else None
    filters = {"store": found["store"]["id"] if found["store"] else "",
               "day": found["day"].isoformat() if found["day"] else ""}
    return render_page(request, user, "console/orders.html", {
        "orders": page, "more": more, "paged": before is not None, "filters": filters,
        "filtered": any(filters.values()), "stores": await stores_of(request, user.merchant.id)},
        active="orders")


async def _order_page(request: Request, user: ConsoleUser, *,
                      errors: dict[str, str] | None = None,
                      params: dict[str, Any] | None = None,
                      form: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    order = await queries.order_listed(pool, user.merchant.id, request.path_params["order_id"])
    if order is None:
        raise NotFound("No such order.")
    refundable = order["amount"] - order["refunded"]
    return render_page(request, user, "console/order.html", {
        "order": order, "refundable": refundable, "refundable_text": yuan_text(refundable),
        "coupons": await queries.coupon_lines(pool, user.merchant.id, order["id"],
                                              list(order["coupon_codes"])),
        "refunds": await queries.refund_lines(pool, user.merchant.id, order["id"]),
        # Each form its own id: whichever is posted (twice or not), that refund happens once.
        "whole_id": f"con-{secrets.token_hex(12)}", "part_id": f"con-{secrets.token_hex(12)}",
        "errors": errors or {}, "params": params or {}, "form": form or {}},
        status=status, active="orders")


async def order_page(request: Request, user: ConsoleUser) -> Response:
    return await _order_page(request, user)


async def refund(request: Request, user: ConsoleUser) -> Response:
    order_id = request.path_params["order_id"]
    data = await read_form(request)
    form = Form(data)
    where = "whole" if data.get("mode") == "whole" else "amount"
    amount = form.yuan("amount", required=True)
    if amount is not None and amount <= 0:
        form.errors["amount"] = _REFUND_ERRORS["not_positive"]
    if form.errors:
        return await _order_page(request, user, errors={where: form.errors["amount"]},
                                 form=data, status=422)
    assert amount is not None
    try:
        body = RefundCreate(amount=amount, id=data.get("refund_id", ""))
    except ValidationError:
        return await _order_page(request, user, errors={where: _REFUND_ERRORS["bad_refund_id"]},
                                 form=data, status=422)
    svc = services(request)
    try:
        async with svc.unit() as unit:
            done, _ = await service.create_refund(unit.conn, user.merchant.id, order_id, body,
                                                  svc.clock.now())
    except (service.RefundExceedsPaid, service.RefundConflict) as exc:
        order = await queries.order_listed(svc.pool, user.merchant.id, order_id)
        left = order["amount"] - order["refunded"] if order else 0
        return await _order_page(request, user, errors={where: _REFUND_ERRORS[exc.code]},
                                 params={where: {"amount": yuan_shown(left)}}, form=data,
                                 status=exc.status)
    # A replay answers with the first refund, coupons given back included.
    return redirect(f"/console/orders/{order_id}",
                    "refund_coupons_back" if done.coupons_returned else "refund_done")


_GUEST, _NO_STAFF = N_("访客"), N_("API / POS")
_STATUSES = (N_("已支付"), N_("部分退款"), N_("已全额退款"))


def _status(row: Any) -> str:
    if row["refunded"] == 0:
        return _STATUSES[0]
    return _STATUSES[2] if row["refunded"] >= row["amount"] else _STATUSES[1]


async def orders_csv(request: Request, user: ConsoleUser) -> Response:
    """Every order of the filter, oldest first; ``from`` and ``to`` are local days, both
    included."""
    pool = services(request).pool
    store = await store_param(request, user.merchant.id)
    first = days.parse(request.query_params.get("from"), "from")
    last = days.parse(request.query_params.get("to"), "to")
    zone = user.merchant.time_zone
    since = days.bounds(first, zone)[0] if first else None
    until = days.bounds(last, zone)[1] if last else None
    store_id = store["id"] if store else None

    async def batch(after: str | None, n: int) -> list[Any]:
        return await queries.orders_for_export(
            pool, user.merchant.id, store_id=store_id, since=since, until=until,
            after=parse_cursor(after, "after"), limit=n)

    # Words in the file are in the page's language, like its header.
    locale, _ = i18n.choose_locale(request)
    with i18n.use_locale(locale):
        words = {w: i18n.gettext(w) for w in (_GUEST, _NO_STAFF, *_STATUSES)}

    def to_row(r: Any) -> list[Any]:
        who = r["member_name"] if r["member_id"] else words[_GUEST]
        return [r["id"], r["created_at"], r["store_name"] or "",
                r["staff_email"] or words[_NO_STAFF], r["member_id"], r["external_id"], who,
                r["member_phone"] or r["guest_phone"],
                None if r["subtotal"] is None else Yuan(r["subtotal"]), Yuan(r["discount"]),
                Yuan(r["amount"]), Yuan(r["refunded"]), words[_status(r)],
                list(r["coupon_codes"]), r["coupons_returned_at"]]

    name = "-".join(p for p in ("orders", store_id, first and first.isoformat(),
                                last and last.isoformat()) if p)
    return csv_response(
        request, filename=f"{name}.csv", time_zone=zone,
        header=[N_("订单号"), N_("时间"), N_("门店名称"), N_("收银员"), N_("会员ID"),
                N_("会员编号"), N_("会员姓名"), N_("手机号"), N_("原价(元)"), N_("优惠(元)"),
                N_("实付(元)"), N_("已退款(元)"), N_("状态"), N_("用券"), N_("券退回时间")],
        read_batch=batch, to_row=to_row,
        cursor=lambda r: cursor_of(r["created_at"], r["id"]))


routes: list[Route] = [
    page_route("/console/orders", orders_page, allow=MANAGERS),
    page_route("/console/orders/{order_id}", order_page, allow=MANAGERS),
    page_route("/console/orders/{order_id}/refunds", refund, methods=("POST",), allow=MANAGERS),
    page_route("/console/exports/orders.csv", orders_csv, allow=MANAGERS),
]
