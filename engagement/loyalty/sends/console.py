"""The console's sends pages (精准营销 · 沉睡会员唤醒): the list of sends, a new send with a
segment builder whose audience is counted as the filters change, and each send's result
with its lift drawn as a chart. A send is saved through the API's own SendCreate, so the
page and ``POST /api/v1/sends`` accept the same things."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, redirect, render_page
from engagement.coupons import queries as coupon_queries
from engagement.kit import i18n
from engagement.kit.domain import NavItem
from engagement.kit.errors import AppError, NotFound
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.loyalty.sends import chart, service
from engagement.loyalty.sends.schemas import Segment, SendCreate, SendOut
from engagement.loyalty.tiers import queries as tier_queries

PATH = "/console/sends"
NAV = NavItem("sends", PATH, N_("精准营销"), order=42)  # owner and manager, like MANAGERS
NOTICES = {"send_queued": N_("已开始发送，结果会在这里更新"),
           "send_scheduled": N_("已排期，到时间会自动发送")}
STATUS = {"scheduled": N_("已排期"), "queued": N_("排队中"), "running": N_("发送中"),
          "done": N_("已完成"), "failed": N_("未完成")}
FAILURES = {"insufficient_inventory": N_("优惠券库存不足，已发出的券有效，剩下的会员没有收到。"
                                         "请给优惠券加库存后再新建一次发送。")}
# The preset of the empty state and of the list's shortcut: members who have bought before
# but not in the last 60 days (沉睡会员), a tenth of them held out to measure the lift.
WIN_BACK = {"name": N_("60天沉睡会员唤醒"), "min_orders": "1", "inactive_days": "60",
            "holdout_percent": "10", "when": "now"}
WINDOW_NEEDS_COUNT = N_("填了「消费次数只算最近」，也要填至少消费几次")
_NUMBERS = ("min_orders", "orders_within_days", "inactive_days")


async def list_page(request: Request, user: ConsoleUser) -> Response:
    sends = await service.list_sends(services(request).pool, user.merchant.id)
    return render_page(request, user, "console/sends.html", {
        "sends": sends, "send_status": STATUS}, active="sends")


async def _options(pool: asyncpg.Pool, merchant_id: str) -> dict[str, Any]:
    templates = await coupon_queries.templates_of_merchant(pool, merchant_id)
    tiers = await tier_queries.tiers_of(pool, merchant_id)
    return {"templates": templates, "tiers": [t["name"] for t in tiers]}


async def _form_page(request: Request, user: ConsoleUser, form: dict[str, str], *,
                     errors: dict[str, str] | None = None, status: int = 200) -> Response:
    svc = services(request)
    options = await _options(svc.pool, user.merchant.id)
    count = await _count(request, user, form)
    return render_page(request, user, "console/send_form.html", {
        **options, "form": form, "errors": errors or {}, "audience": count},
        status=status, active="sends")


async def new_page(request: Request, user: ConsoleUser) -> Response:
    form = {"holdout_percent": "10", "when": "now"}
    if request.query_params.get("preset") == "win_back":
        with i18n.use_locale(i18n.choose_locale(request)[0]):
            form = {**WIN_BACK, "name": i18n.gettext(WIN_BACK["name"])}
    return await _form_page(request, user, form)


def _segment(form: Form) -> Segment:
    """The segment the form's filters describe (FormErrors or ValidationError when wrong)."""
    values: dict[str, Any] = {n: form.integer(n, minimum=1, maximum=10_000 if n == "min_orders"
                                              else 3650) for n in _NUMBERS}
    if values["orders_within_days"] is not None and values["min_orders"] is None \
            and "min_orders" not in form.errors:
        form.errors["min_orders"] = WINDOW_NEEDS_COUNT
    form.raise_if_invalid()
    values["birthday"] = form.data.get("birthday") or None
    values["tier"] = form.data.get("tier") or None
    holding = form.data.get("holding")
    values["holding_unredeemed"] = {"yes": True, "no": False}.get(holding or "")
    return Segment.model_validate({k: v for k, v in values.items() if v is not None})


async def _count(request: Request, user: ConsoleUser, data: dict[str, str]) -> int | None:
    """The audience of the form's filters now; None while a filter is not valid."""
    try:
        segment = _segment(Form(data))
    except (FormErrors, ValidationError):
        return None
    svc = services(request)
    out = await service.audience(svc.pool, user.merchant.id, user.merchant.time_zone,
                                 segment, svc.clock.now())
    return out.count


async def audience(request: Request, user: ConsoleUser) -> Response:
    """The builder's audience count as the merchant changes a filter (htmx, GET with the
    form's fields)."""
    data = dict(request.query_params)
    return render_page(request, user, "console/_send_audience.html",
                       {"audience": await _count(request, user, data)})


def _read(data: dict[str, str], time_zone: str) -> SendCreate:
    form = Form(data)
    name = form.text("name", required=True, max_length=100)
    template_id = form.text("coupon_template_id", required=True, max_length=64)
    holdout = form.integer("holdout_percent", required=True, minimum=0, maximum=90)
    scheduled_at = None
    if data.get("when") == "later":
        scheduled_at = form.local_time("scheduled_at", time_zone)
        if scheduled_at is None and "scheduled_at" not in form.errors:
            form.errors["scheduled_at"] = N_("请选择发送时间")
    segment = _segment(form)
    form.raise_if_invalid()
    return SendCreate.model_validate({
        "name": name, "coupon_template_id": template_id, "holdout_percent": holdout,
        "segment": segment, "scheduled_at": scheduled_at})


async def create(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    svc = services(request)
    try:
        send = _read(data, user.merchant.time_zone)
        async with svc.unit() as unit:
            queued = await service.create_send(unit, user.merchant.id, send, svc.clock.now())
    except FormErrors as exc:
        return await _form_page(request, user, data, errors=exc.errors, status=422)
    except ValidationError as exc:
        return await _form_page(request, user, data, status=422,
                                errors=pydantic_errors(exc))
    except service.ScheduledInPast:
        return await _form_page(request, user, data, status=422,
                                errors={"scheduled_at": N_("请选择现在之后的时间")})
    except AppError as exc:  # a coupon template of another merchant, or deleted meanwhile
        return await _form_page(request, user, data, status=exc.status,
                                errors={"coupon_template_id": N_("请选择一张优惠券")})
    notice = "send_scheduled" if queued.status == "scheduled" else "send_queued"
    return redirect(f"{PATH}/{queued.id}", notice)


async def _result(request: Request, user: ConsoleUser) -> dict[str, Any]:
    pool = services(request).pool
    send: SendOut = await service.get_send(pool, user.merchant.id,
                                           request.path_params["send_id"])
    template = await coupon_queries.template_by_id(pool, user.merchant.id,
                                                   send.coupon_template_id)
    if template is None:  # its template is the merchant's by the foreign key
        raise NotFound("No such send.")
    return {"send": send, "template": template, "chart": chart.lift_chart(send),
            "send_status": STATUS, "failure": FAILURES.get(send.error or "")}


async def result_page(request: Request, user: ConsoleUser) -> Response:
    return render_page(request, user, "console/send.html", await _result(request, user),
                       active="sends")


async def result_panel(request: Request, user: ConsoleUser) -> Response:
    """The figures and the chart alone, polled while the send is on its way."""
    return render_page(request, user, "console/_send_result.html",
                       await _result(request, user))


routes = [page_route(PATH, list_page, allow=MANAGERS),
          page_route(f"{PATH}/new", new_page, allow=MANAGERS),
          page_route(f"{PATH}/new", create, methods=("POST",), allow=MANAGERS),
          page_route(f"{PATH}/audience", audience, allow=MANAGERS),
          page_route(f"{PATH}/{{send_id}}", result_page, allow=MANAGERS),
          page_route(f"{PATH}/{{send_id}}/panel", result_panel, allow=MANAGERS)]
