"""The console's webhooks pages: the endpoints (url and events; the secret is shown once, on
the answer to creating one), each endpoint's delivery log with status, attempts and the last
error, and a retry for a failed delivery. They go through the API's own EndpointCreate and
services (create_endpoint, deliveries, retry), so page and ``/api/v1/webhooks`` agree."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from engagement.console.forms import FormErrors, pydantic_errors
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, redirect, render_page
from engagement.kit.domain import NavItem
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.loyalty.webhooks import service
from engagement.loyalty.webhooks.schemas import EndpointCreate
from engagement.loyalty.webhooks.targets import UrlNotAllowed

PATH = "/console/webhooks"
NAV = NavItem("webhooks", PATH, N_("Webhooks"), order=88)
NOTICES = {"delivery_retried": N_("已重新发送，几秒后刷新查看结果"),
           "delivery_not_failed": N_("这条推送没有失败，不需要重发")}
EVENTS = {"member.created": N_("新会员加入"), "order.paid": N_("订单支付"),
          "order.refunded": N_("订单退款"), "coupon.redeemed": N_("优惠券核销"),
          "balance.changed": N_("储值余额变动"),
          "membership.started": N_("付费会员开通/续费"), "membership.ended": N_("付费会员到期")}
DELIVERIES_SHOWN = 50


async def _page(request: Request, user: ConsoleUser, *, form: dict[str, object] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    endpoints = await service.list_endpoints(services(request).pool, user.merchant.id)
    return render_page(request, user, "console/webhooks.html", {
        "endpoints": endpoints.items, "events": EVENTS, "errors": errors or {},
        "form": form or {"url": "", "events": list(EVENTS)}}, status=status,
        active="webhooks")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user)


async def create(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    chosen = [e for e in EVENTS if data.get(f"event-{e}") == "on"]
    url = data.get("url", "").strip()
    shown: dict[str, object] = {"url": url, "events": chosen}
    svc = services(request)
    try:
        if not url:
            raise FormErrors({"url": N_("请填写接收地址")})
        if not chosen:
            raise FormErrors({"events": N_("请至少选一个事件")})
        body = EndpointCreate.model_validate({"url": url, "events": chosen})
        async with svc.unit() as unit:
            endpoint = await service.create_endpoint(
                unit.conn, user.merchant.id, body, svc.clock.now(),
                allow_private=svc.settings.webhooks_allow_private_targets)
    except FormErrors as exc:
        return await _page(request, user, form=shown, errors=exc.errors, status=422)
    except ValidationError as exc:
        errors = pydantic_errors(exc, {"url": "url", "events": "events"})
        if "url" in errors:
            errors["url"] = N_("请填写以 https:// 或 http:// 开头的完整地址")
        return await _page(request, user, form=shown, errors=errors, status=422)
    except UrlNotAllowed as exc:
        return await _page(request, user, form=shown, status=exc.status, errors={
            "url": N_("这个地址不能接收推送：要用公网能访问的地址，不能是内网或本机")})
    # Shown on this answer only: the list and the API never show a secret again.
    return render_page(request, user, "console/webhook_created.html", {
        "endpoint": endpoint, "events": EVENTS}, status=201, active="webhooks")


async def endpoint_page(request: Request, user: ConsoleUser) -> Response:
    pool = services(request).pool
    endpoint_id = request.path_params["webhook_id"]
    log = await service.deliveries(pool, user.merchant.id, endpoint_id, None,
                                   DELIVERIES_SHOWN)
    endpoint = next(e for e in (await service.list_endpoints(pool, user.merchant.id)).items
                    if e.id == endpoint_id)
    return render_page(request, user, "console/webhook.html", {
        "endpoint": endpoint, "deliveries": log.items, "events": EVENTS}, active="webhooks")


async def retry(request: Request, user: ConsoleUser) -> Response:
    endpoint_id = request.path_params["webhook_id"]
    svc = services(request)
    back = f"{PATH}/{endpoint_id}"
    try:
        async with svc.unit() as unit:
            await service.retry(unit.conn, user.merchant.id, endpoint_id,
                                request.path_params["delivery_id"], svc.clock.now())
    except service.DeliveryNotFailed:
        return redirect(back, "delivery_not_failed")
    return redirect(back, "delivery_retried")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(PATH, create, methods=("POST",), allow=MANAGERS),
          page_route(PATH + "/{webhook_id}", endpoint_page, allow=MANAGERS),
          page_route(PATH + "/{webhook_id}/deliveries/{delivery_id}/retry", retry,
                     methods=("POST",), allow=MANAGERS)]
