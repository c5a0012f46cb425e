"""The console's birthday coupons page (生日礼): the automation on or off, its coupon, and
how many days before the birthday it goes out. It saves through the same
BirthdayAutomationIn and service as ``PUT /api/v1/birthday-automation`` and shows what the
daily send behind it has issued (the same numbers as ``GET /api/v1/sends/{id}``)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, redirect, render_page
from engagement.coupons import queries as coupon_queries
from engagement.coupons.service import UnknownTemplate
from engagement.kit.domain import NavItem
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.loyalty.sends import service
from engagement.loyalty.sends.schemas import (
    MAX_BIRTHDAY_DAYS_AHEAD,
    BirthdayAutomationIn,
    BirthdayAutomationOut,
)

PATH = "/console/birthday"
NAV = NavItem("birthday", PATH, N_("生日礼"), order=49)
NOTICES = {"birthday_saved": N_("生日礼设置已保存")}


def _form_of(automation: BirthdayAutomationOut) -> dict[str, Any]:
    return {"enabled": automation.enabled,
            "coupon_template_id": automation.coupon_template_id or "",
            "days_before": str(automation.days_before)}


async def _page(request: Request, user: ConsoleUser, *, form: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    automation = await service.get_birthday_automation(pool, user.merchant.id)
    send = None if automation.send_id is None \
        else await service.get_send(pool, user.merchant.id, automation.send_id)
    return render_page(request, user, "console/birthday.html", {
        "automation": automation, "send": send, "form": form or _form_of(automation),
        "errors": errors or {}, "max_days": MAX_BIRTHDAY_DAYS_AHEAD,
        "send_hour": service.DAILY_SEND_LOCAL_HOUR,
        "templates": await coupon_queries.templates_of_merchant(pool, user.merchant.id)},
        status=status, active="birthday")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user)


def _read(data: dict[str, str]) -> BirthdayAutomationIn:
    form = Form(data)
    enabled = form.flag("enabled")
    template = form.text("coupon_template_id", required=enabled, max_length=64)
    days = form.integer("days_before", minimum=0, maximum=MAX_BIRTHDAY_DAYS_AHEAD) or 0
    if enabled and template is None:
        form.errors["coupon_template_id"] = N_("开启生日礼要先选一张优惠券")
    form.raise_if_invalid()
    return BirthdayAutomationIn.model_validate({"enabled": enabled,
                                                "coupon_template_id": template,
                                                "days_before": days})


async def save(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    shown = {**data, "enabled": Form(data).flag("enabled")}
    svc = services(request)
    try:
        automation = _read(data)
        async with svc.unit() as unit:
            await service.set_birthday_automation(unit.conn, user.merchant.id, automation,
                                                  svc.clock.now())
    except FormErrors as exc:
        return await _page(request, user, form=shown, errors=exc.errors, status=422)
    except ValidationError as exc:
        return await _page(request, user, form=shown, status=422,
                           errors=pydantic_errors(exc, {"": "coupon_template_id"}))
    except UnknownTemplate as exc:
        return await _page(request, user, form=shown, status=exc.status,
                           errors={"coupon_template_id": N_("所选优惠券不存在")})
    return redirect(PATH, "birthday_saved")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(PATH, save, methods=("POST",), allow=MANAGERS)]
