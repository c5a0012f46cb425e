"""The console's paid membership pages: the member-card figures (会员卡概览: stored value
and paid members, each as a CSV), the plan editor (付费会员套餐, saved through the same
MembershipPlansIn and set_plans as ``PUT /api/v1/membership-plans``), and the membership on
a member's page. Owners and managers, like the rest of the console's settings."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console.export import Yuan, csv_table
from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.posters import translate
from engagement.console.shell import (
    MANAGERS,
    ConsoleUser,
    MemberSection,
    page_route,
    redirect,
    render_page,
)
from engagement.coupons import queries as coupon_queries
from engagement.coupons.service import UnknownTemplate
from engagement.kit.domain import NavItem
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.loyalty.membership import figures, service
from engagement.loyalty.membership.schemas import MAX_PLANS, MembershipPlansIn

PATH = "/console/member-cards"
PLANS_PATH = "/console/membership-plans"
NAV = NavItem("member_cards", PATH, N_("会员卡"), order=33)
NOTICES = {"membership_plans_saved": N_("付费会员套餐已保存")}
_FIELDS = ("name", "price", "days", "discount", "coupon")


async def overview(request: Request, user: ConsoleUser) -> Response:
    svc = services(request)
    return render_page(request, user, "console/member_cards.html", {
        "stored": await figures.stored_value(svc.pool, user.merchant.id),
        "paid": await figures.memberships(svc.pool, user.merchant.id, svc.clock.now()),
        "plans_path": PLANS_PATH}, active="member_cards")


def stored_value_rows(stored: figures.StoredValue) -> list[list[Any]]:
    return [[N_("累计充值（本金）"), Yuan(stored.topped_up)],
            [N_("累计赠送"), Yuan(stored.bonus_given)],
            [N_("累计消费（扣除退回）"), Yuan(stored.spent)],
            [N_("退卡退款"), Yuan(stored.card_refunded)],
            [N_("作废赠送"), Yuan(stored.bonus_forfeited)],
            [N_("未消费本金（负债）"), Yuan(stored.principal)],
            [N_("未消费赠送"), Yuan(stored.bonus)]]


async def stored_value_csv(request: Request, user: ConsoleUser) -> Response:
    stored = await figures.stored_value(services(request).pool, user.merchant.id)
    return csv_table(request, filename="stored-value.csv", header=[N_("指标"), N_("金额（元）")],
                     rows=[[translate(request, label), value]
                           for label, value in stored_value_rows(stored)],
                     time_zone=user.merchant.time_zone)


async def memberships_csv(request: Request, user: ConsoleUser) -> Response:
    svc = services(request)
    paid = await figures.memberships(svc.pool, user.merchant.id, svc.clock.now())
    rows: list[list[Any]] = [[p.name, p.purchases, p.renewals, Yuan(p.revenue), p.active]
                             for p in paid.plans]
    rows.append([translate(request, N_("合计")), paid.purchases, paid.renewals,
                 Yuan(paid.revenue), paid.active])
    return csv_table(request, filename="paid-members.csv", header=[
        N_("套餐"), N_("售出"), N_("其中续费"), N_("收入（元）"), N_("在期会员")],
        rows=rows, time_zone=user.merchant.time_zone)


# The plan editor

def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}".rstrip("0").rstrip(".")


def _form_of(plans: list[Any]) -> dict[str, str]:
    form: dict[str, str] = {}
    for i, p in enumerate(plans):
        form.update({f"plan-{i}-name": p.name, f"plan-{i}-price": _yuan(p.price),
                     f"plan-{i}-days": str(p.days),
                     f"plan-{i}-discount": str(p.discount_percent or ""),
                     f"plan-{i}-coupon": p.monthly_coupon_template_id or ""})
    return form


def _rows(form: dict[str, str]) -> int:
    used = [i for i in range(MAX_PLANS) if any(form.get(f"plan-{i}-{f}", "").strip()
                                               for f in ("name", "price"))]
    return min(MAX_PLANS, (max(used) + 2) if used else 1)


async def _plans_page(request: Request, user: ConsoleUser, *,
                      form: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    plans = (await service.get_plans(pool, user.merchant.id)).plans
    form = form if form is not None else _form_of(plans)
    return render_page(request, user, "console/membership_plans.html", {
        "plans": plans, "form": form, "errors": errors or {}, "rows": range(_rows(form)),
        "templates": await coupon_queries.templates_of_merchant(pool, user.merchant.id)},
        status=status, active="member_cards")


async def plans_page(request: Request, user: ConsoleUser) -> Response:
    return await _plans_page(request, user)


def _read(data: dict[str, str]) -> tuple[MembershipPlansIn, dict[str, str]]:
    """The model, and each of its locations' input names (for the API's own errors)."""
    form = Form(data)
    plans: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    seen: set[str] = set()
    for i in range(MAX_PLANS):
        p = f"plan-{i}-"
        if not any(data.get(p + f, "").strip() for f in ("name", "price")):
            continue
        name = form.text(p + "name", required=True, max_length=40)
        if name is not None and name in seen:
            form.errors[p + "name"] = N_("套餐名称重复了")
        seen.add(name or "")
        price = form.yuan(p + "price", required=True)
        days = form.integer(p + "days", required=True, minimum=1, maximum=3660)
        discount = form.integer(p + "discount", minimum=0, maximum=95)
        at = f"plans.{len(plans)}."
        names.update({at + "name": p + "name", at + "price": p + "price",
                      at + "days": p + "days", at + "discount_percent": p + "discount",
                      at + "monthly_coupon_template_id": p + "coupon"})
        plans.append({"name": name, "price": price, "days": days,
                      "discount_percent": discount or 0,
                      "monthly_coupon_template_id": data.get(p + "coupon") or None})
    form.raise_if_invalid()
    return MembershipPlansIn.model_validate({"plans": plans}), names


async def save_plans(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    names: dict[str, str] = {}
    svc = services(request)
    try:
        plans, names = _read(data)
        async with svc.unit() as unit:
            await service.set_plans(unit.conn, user.merchant.id, plans, svc.clock.now())
    except FormErrors as exc:
        return await _plans_page(request, user, form=data, errors=exc.errors, status=422)
    except ValidationError as exc:
        return await _plans_page(request, user, form=data, status=422,
                                 errors=pydantic_errors(exc, names))
    except UnknownTemplate as exc:
        field = (exc.details.get("fields") or [{}])[0].get("field", "")
        return await _plans_page(request, user, form=data, status=exc.status,
                                 errors={names.get(field, "form"): N_("所选优惠券不存在")})
    return redirect(PLANS_PATH, "membership_plans_saved")


async def member_section(request: Request, user: ConsoleUser,
                         member: asyncpg.Record) -> MemberSection:
    svc = services(request)
    membership = await service.member_membership(svc.pool, user.merchant.id, member["id"],
                                                 svc.clock.now())
    return MemberSection("console/_member_membership.html", {"membership": membership},
                         order=15)


routes: list[Route] = [
    page_route(PATH, overview, allow=MANAGERS),
    page_route(f"{PATH}/stored-value.csv", stored_value_csv, allow=MANAGERS),
    page_route(f"{PATH}/paid-members.csv", memberships_csv, allow=MANAGERS),
    page_route(PLANS_PATH, plans_page, allow=MANAGERS),
    page_route(PLANS_PATH, save_plans, methods=("POST",), allow=MANAGERS),
]
