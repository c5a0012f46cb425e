"""The console's coupon pages: templates, stock, the coupons export."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console import labels
from engagement.console.export import csv_response
from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.shell import (
    MANAGERS,
    ConsoleUser,
    page_route,
    redirect,
    render_page,
)
from engagement.coupons import queries as coupon_queries
from engagement.coupons import service as coupons
from engagement.coupons.schemas import StockChange, TemplateCreate, TemplateUpdate
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.stores.filters import store_param, stores_of

TEMPLATES_PER_PAGE = 50

NOTICES = {
    "template_created": N_("优惠券已创建"), "template_saved": N_("修改已保存"),
    "stock_changed": N_("库存已更新"),
}


async def templates_page(request: Request, user: ConsoleUser) -> Response:
    before = (request.query_params.get("before") or "")[:64] or None
    # One row more than a page says whether a next page exists, so its link never leads
    # to an empty page.
    rows = await coupon_queries.templates_page(services(request).pool, user.merchant.id,
                                               before, TEMPLATES_PER_PAGE + 1)
    page = rows[:TEMPLATES_PER_PAGE]
    return render_page(request, user, "console/coupons.html", {
        "templates": [coupons.template_out(r) for r in page], "paged": before is not None,
        "more": page[-1]["id"] if len(rows) > TEMPLATES_PER_PAGE else None,
        "stores": await stores_of(request, user.merchant.id)},
        active="coupons")


def _discount(form: Form) -> dict[str, Any] | None:
    kind = form.data.get("discount_type", "amount_off")
    if kind == "percent_off":
        zhe = form.decimal("zhe", required=True)
        if zhe is None:
            return None
        percent = 100 - zhe * 10
        if percent != int(percent) or not 0 < percent < 100:
            form.errors["zhe"] = N_("请输入 0.1 到 9.9 之间的折扣，如 8 或 8.5")
            return None
        return {"type": "percent_off", "percent": int(percent)}
    if kind == "gift":
        description = form.text("gift_description", required=True)
        return {"type": "gift", "description": description} if description else None
    amount = form.yuan("amount", required=True)
    if amount is not None and amount <= 0:
        form.errors["amount"] = N_("金额必须大于 0")
    return {"type": "amount_off", "amount": amount} if amount else None


_TEMPLATE_FIELDS = {"discount.amount": "amount", "discount.percent": "zhe",
                    "discount.description": "gift_description"}


def _read_template(data: dict[str, str], *, creating: bool) -> TemplateCreate | TemplateUpdate:
    form = Form(data)
    values: dict[str, Any] = {
        "name": form.text("name", required=True, max_length=120),
        "discount": _discount(form),
        "min_spend": form.yuan("min_spend") or 0,
        "valid_days": form.integer("valid_days", minimum=1, maximum=3660),
        "per_member_limit": form.integer("per_member_limit", minimum=1),
        "stackable": bool(data.get("stackable")),
    }
    if creating:
        values["stock"] = form.integer("stock", minimum=0, maximum=100_000_000)
    form.raise_if_invalid()
    try:
        if creating:
            return TemplateCreate.model_validate(values)
        if values["per_member_limit"] is None:
            values["clear_per_member_limit"] = True
        return TemplateUpdate.model_validate(values)
    except ValidationError as exc:
        raise FormErrors(pydantic_errors(exc, _TEMPLATE_FIELDS)) from exc


async def new_template_page(request: Request, user: ConsoleUser) -> Response:
    return render_page(request, user, "console/coupon_form.html",
                       {"form": {"discount_type": "amount_off", "valid_days": "30"},
                        "template": None}, active="coupons")


async def create_template(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    try:
        body = _read_template(data, creating=True)
    except FormErrors as exc:
        return render_page(request, user, "console/coupon_form.html",
                           {"form": data, "errors": exc.errors, "template": None},
                           status=422, active="coupons")
    assert isinstance(body, TemplateCreate)
    async with services(request).unit() as unit:
        await coupons.create_template(unit.conn, user.merchant.id, body)
    return redirect("/console/coupons", "template_created")


def _form_of(template: Any) -> dict[str, str]:
    discount = template.discount.model_dump()
    form = {"name": template.name, "discount_type": discount["type"],
            "min_spend": _yuan_text(template.min_spend) if template.min_spend else "",
            "valid_days": str(template.valid_days or ""),
            "per_member_limit": str(template.per_member_limit or ""),
            "stackable": "on" if template.stackable else ""}
    if discount["type"] == "amount_off":
        form["amount"] = _yuan_text(discount["amount"])
    elif discount["type"] == "percent_off":
        form["zhe"] = f"{(100 - discount['percent']) / 10:g}"
    else:
        form["gift_description"] = discount["description"]
    return form


def _yuan_text(cents: int) -> str:
    return f"{cents / 100:.2f}".rstrip("0").rstrip(".")


async def _template_page(request: Request, user: ConsoleUser, *, form: dict[str, str] | None,
                         errors: dict[str, str] | None = None, stock_error: str | None = None,
                         status: int = 200) -> Response:
    template = await coupons.get_template(services(request).pool, user.merchant.id,
                                          request.path_params["template_id"])
    return render_page(request, user, "console/coupon_form.html", {
        "template": template, "form": form or _form_of(template), "errors": errors or {},
        "stock_error": stock_error, "locked": bool(template.issued or template.reserved)},
        status=status, active="coupons")


async def template_page(request: Request, user: ConsoleUser) -> Response:
    return await _template_page(request, user, form=None)


async def update_template(request: Request, user: ConsoleUser) -> Response:
    template_id = request.path_params["template_id"]
    data = await read_form(request)
    try:
        body = _read_template(data, creating=False)
        assert isinstance(body, TemplateUpdate)
        async with services(request).unit() as unit:
            await coupons.update_template(unit.conn, user.merchant.id, template_id, body)
    except FormErrors as exc:
        return await _template_page(request, user, form=data, errors=exc.errors, status=422)
    except coupons.TemplateTermsLocked:
        return await _template_page(request, user, form=data, status=409, errors={
            "discount_type": N_("已有券发出或被活动预留，优惠内容和使用门槛不能再改")})
    return redirect(f"/console/coupons/{template_id}", "template_saved")


async def change_stock(request: Request, user: ConsoleUser) -> Response:
    template_id = request.path_params["template_id"]
    form = Form(await read_form(request))
    delta = form.integer("delta", required=True, minimum=-10_000_000, maximum=10_000_000)
    if form.errors or not delta:
        return await _template_page(request, user, form=None, status=422,
                                    stock_error=N_("请输入要增加（或减少）的数量"))
    try:
        async with services(request).unit() as unit:
            await coupons.change_stock(unit.conn, user.merchant.id, template_id,
                                       StockChange(delta=delta))
    except coupons.InsufficientInventory:
        return await _template_page(request, user, form=None, status=409,
                                    stock_error=N_("库存不能少于已预留和已发放的数量"))
    except coupons.UnlimitedStock:
        return await _template_page(request, user, form=None, status=409,
                                    stock_error=N_("这张券不限量，无需补充库存"))
    except coupons.StockOverCap:
        return await _template_page(request, user, form=None, status=422,
                                    stock_error=N_("库存最多一亿张"))
    return redirect(f"/console/coupons/{template_id}", "stock_changed")


async def coupons_csv(request: Request, user: ConsoleUser) -> Response:
    pool = services(request).pool
    template_id = request.query_params.get("template_id") or None
    if template_id is not None:
        await coupons.get_template(pool, user.merchant.id, template_id)  # 404 if not ours
    # ?store=: the coupons redeemed at that store (coupons.store_id); 404 if not ours.
    store = await store_param(request, user.merchant.id)
    store_id = store["id"] if store else None

    async def batch(after: str | None, n: int) -> list[Any]:
        return await coupon_queries.coupons_for_export(pool, user.merchant.id, template_id,
                                                       after, n, store_id=store_id)

    name = "-".join(p for p in ("coupons", template_id or "all", store_id) if p)
    word = labels.words(request, labels.STATUS, labels.COUPON_SOURCE)
    return csv_response(
        request, filename=f"{name}.csv", time_zone=user.merchant.time_zone,
        header=[N_("券码"), N_("优惠券"), N_("优惠券ID"), N_("会员ID"), N_("会员编号"),
                N_("手机号"), N_("状态"), N_("来源"), N_("活动ID"), N_("抽奖ID"),
                N_("发放时间"), N_("到期时间"), N_("核销时间"), N_("订单号"), N_("核销门店")],
        read_batch=batch,
        to_row=lambda r: [r["code"], r["template_name"], r["template_id"], r["member_id"],
                          r["external_id"], r["phone"], word(r["status"]), word(r["source"]),
                          r["campaign_id"], r["draw_id"], r["issued_at"], r["expires_at"],
                          r["redeemed_at"], r["order_id"], r["store_name"]])


# Members


routes: list[Route] = [
    page_route("/console/coupons", templates_page, allow=MANAGERS),
    page_route("/console/coupons/new", new_template_page, allow=MANAGERS),
    page_route("/console/coupons/new", create_template, methods=("POST",), allow=MANAGERS),
    page_route("/console/coupons/{template_id}", template_page, allow=MANAGERS),
    page_route("/console/coupons/{template_id}", update_template, methods=("POST",),
               allow=MANAGERS),
    page_route("/console/coupons/{template_id}/stock", change_stock, methods=("POST",),
               allow=MANAGERS),
    page_route("/console/exports/coupons.csv", coupons_csv, allow=MANAGERS),
]
