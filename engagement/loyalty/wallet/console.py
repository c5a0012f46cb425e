"""The console's stored-value pages: the top-up plans (充500送50) with the spend order, for
owners and managers, saved through the API's own TopUpPlansIn; the balance and ledger on a
member's page; and 退卡 there, and clearing a forgotten payment PIN, for owners only."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.shell import (
    MANAGERS,
    OWNER,
    ConsoleUser,
    MemberSection,
    page_route,
    redirect,
    render_page,
)
from engagement.kit.domain import NavItem
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.loyalty.wallet import payments, pins, service
from engagement.loyalty.wallet.schemas import MAX_PLANS, TopUpPlansIn, TopUpPlansOut

PATH = "/console/top-up-plans"
NAV = NavItem("top_up_plans", PATH, N_("储值"), order=47)  # owner and manager
NOTICES = {"top_up_plans_saved": N_("储值方案已保存"),
           "card_refunded": N_("已退卡：未用完的本金已退，赠送金额已作废"),
           "pin_reset": N_("支付密码已清除：请会员在手机上的“储值余额”页重新设置")}
LEDGER_SHOWN = 20
KINDS = {"top_up": N_("充值"), "spend": N_("消费"), "refund": N_("退款退回"),
         "card_refund": N_("退卡退还"), "forfeit": N_("赠送作废"), "membership": N_("购买会员卡")}
METHODS = {"cash": N_("现金"), "wechat": N_("微信支付"), "alipay": N_("支付宝"),
           "card": N_("银行卡")}


def _form_of(program: TopUpPlansOut) -> dict[str, Any]:
    form: dict[str, Any] = {"spend_order": program.spend_order}
    for i, plan in enumerate(program.plans):
        form[f"plan-{i}-pay"] = f"{plan.pay / 100:g}"
        form[f"plan-{i}-bonus"] = f"{plan.bonus / 100:g}" if plan.bonus else ""
    return form


def _rows(form: dict[str, Any]) -> range:
    """The filled rows and one blank one to add a plan in."""
    filled = [i for i in range(MAX_PLANS) if form.get(f"plan-{i}-pay")]
    return range(min(MAX_PLANS, (max(filled) + 1 if filled else 0) + 1))


async def _page(request: Request, user: ConsoleUser, *, form: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    program = await service.get_program(services(request).pool, user.merchant.id)
    form = form or _form_of(program)
    return render_page(request, user, "console/top_up_plans.html", {
        "program": program, "form": form, "errors": errors or {}, "rows": _rows(form)},
        status=status, active="top_up_plans")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user)


def _read(data: dict[str, str]) -> TopUpPlansIn:
    form = Form(data)
    plans = []
    for i in range(MAX_PLANS):
        pay = form.yuan(f"plan-{i}-pay")
        bonus = form.yuan(f"plan-{i}-bonus")
        if pay is None:
            if bonus:
                form.errors[f"plan-{i}-pay"] = N_("请填写充值金额，或清空这一行")
            continue
        if pay <= 0:
            form.errors[f"plan-{i}-pay"] = N_("充值金额要大于 0")
        elif bonus is not None and bonus > pay:
            form.errors[f"plan-{i}-bonus"] = N_("赠送不能多于充值金额")
        plans.append({"pay": pay, "bonus": bonus or 0})
    form.raise_if_invalid()
    if len({p["pay"] for p in plans}) != len(plans):
        raise FormErrors({"plans": N_("每个方案的充值金额要不同")})
    return TopUpPlansIn.model_validate({"plans": plans,
                                        "spend_order": data.get("spend_order")})


async def save(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    svc = services(request)
    try:
        program = _read(data)
        async with svc.unit() as unit:
            await service.set_program(unit.conn, user.merchant.id, program, svc.clock.now())
    except FormErrors as exc:
        return await _page(request, user, form=dict(data), errors=exc.errors, status=422)
    except ValidationError as exc:
        errors = pydantic_errors(exc, {"plans": "plans", "spend_order": "spend_order"})
        return await _page(request, user, form=dict(data), errors=errors or {
            "plans": N_("填写有误，请检查")}, status=422)
    return redirect(PATH, "top_up_plans_saved")


async def member_section(request: Request, user: ConsoleUser,
                         member: asyncpg.Record) -> MemberSection:
    svc = services(request)
    out = await service.balance(svc.pool, user.merchant.id, member["id"], None, LEDGER_SHOWN,
                                svc.clock.now())
    return MemberSection("console/_member_wallet.html", {
        "wallet": out, "kinds": KINDS, "methods": METHODS,
        "can_refund": user.role == "owner" and out.balance > 0,
        "can_reset_pin": user.role == "owner" and out.pin_set}, order=30)


async def card_refund(request: Request, user: ConsoleUser) -> Response:
    member_id = request.path_params["member_id"]
    svc = services(request)
    async with svc.unit() as unit:
        await payments.card_refund(unit.conn, user.merchant.id, member_id, svc.clock.now(),
                                   staff_id=user.id)
    return redirect(f"/console/members/{member_id}#wallet", "card_refunded")


async def reset_pin(request: Request, user: ConsoleUser) -> Response:
    member_id = request.path_params["member_id"]
    svc = services(request)
    await service.require_member(svc.pool, user.merchant.id, member_id)
    await pins.reset(svc.pool, user.merchant.id, member_id, svc.clock.now())
    return redirect(f"/console/members/{member_id}#wallet", "pin_reset")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(PATH, save, methods=("POST",), allow=MANAGERS),
          page_route("/console/members/{member_id}/balance/refund", card_refund,
                     methods=("POST",), allow=OWNER),
          page_route("/console/members/{member_id}/balance-pin/reset", reset_pin,
                     methods=("POST",), allow=OWNER)]
