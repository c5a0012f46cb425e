"""Console pages of the referral domain: the program's settings, who brings in whom (top
referrers, a member's invitees by level), commission by status, and the commission CSV."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import asyncpg
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console import labels
from engagement.console.export import Yuan, csv_response
from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.shell import (
    MANAGERS,
    ConsoleUser,
    MemberSection,
    page_route,
    redirect,
    render_page,
)
from engagement.coupons import queries as coupon_queries
from engagement.kit.errors import AppError, NotFound
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.members import queries as member_queries
from engagement.stores.filters import store_param, stores_of
from referrals import queries, service
from referrals.ledger import queries as ledger_queries
from referrals.ledger import service as ledger
from referrals.schemas import DEFAULT_PROGRAM, MAX_LEVELS, ProgramIn

TOP_REFERRERS = 20
DOWNLINE_ROWS = 500
LEDGER_ROWS = 50



def _percent_text(rate_bp: int) -> str:
    """Basis points as the percentage typed in the form: 1000 -> "10", 1250 -> "12.5"."""
    return f"{Decimal(rate_bp) / 100:f}".rstrip("0").rstrip(".") if rate_bp % 100 \
        else str(rate_bp // 100)


def _program_form(program: Any) -> dict[str, Any]:
    rates = [level.rate_bp for level in program.levels]
    return {
        "enabled": program.enabled, "reward": program.reward_coupon_template_id or "",
        "share": list(program.share_coupon_template_ids),
        "levels": [_percent_text(r) for r in rates],
        "trigger": program.trigger, "hold_days": str(program.hold_days),
        "daily_cap": str(program.max_paid_referrals_per_day or ""),
        "ip_cap": str(program.max_joins_per_ip_per_hour or ""),
        "min_withdrawal": _yuan_text(program.min_withdrawal)}


def _yuan_text(cents: int) -> str:
    """Cents as the yuan typed in the form: 100 -> "1", 150 -> "1.5"."""
    yuan, rest = divmod(cents, 100)
    return f"{yuan}.{rest:02d}".rstrip("0") if rest else str(yuan)


async def _overview(request: Request, user: ConsoleUser, *, form: dict[str, Any] | None = None,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    row = await queries.program(pool, user.merchant.id)
    program = service.program_out(row) if row is not None else None
    templates = await coupon_queries.templates_of_merchant(pool, user.merchant.id)
    return render_page(request, user, "console/referrals.html", {
        # Without a program, the console shows (and offers) the defaults.
        "program": program, "form": form or _program_form(program or DEFAULT_PROGRAM),
        "errors": errors or {}, "templates": templates,
        "totals": await ledger_queries.merchant_commission_totals(pool, user.merchant.id),
        "counts": await queries.referral_counts(pool, user.merchant.id),
        "top": await ledger_queries.top_referrers(pool, user.merchant.id, TOP_REFERRERS),
        "stores": await stores_of(request, user.merchant.id)},
        status=status, active="referrals")


async def overview(request: Request, user: ConsoleUser) -> Response:
    return await _overview(request, user)


def _read_program(raw: bytes, data: dict[str, str]) -> dict[str, Any]:
    """The settings form as ProgramIn fields."""
    form = Form(data)
    shown = _shown(raw, data)
    rates = []
    for n, text in enumerate(shown["levels"], start=1):
        if not text:
            continue
        percent = form.decimal(f"level-{n}")
        if percent is None or percent < 0 or percent > 100 or (percent * 100) % 1:
            form.errors[f"level-{n}"] = N_("请输入 0 到 100 之间的百分比，最多两位小数")
            continue
        rates.append({"rate_bp": int(percent * 100)})
    values = {"enabled": shown["enabled"], "reward_coupon_template_id": shown["reward"] or None,
              "share_coupon_template_ids": shown["share"], "levels": rates,
              "trigger": shown["trigger"],
              "hold_days": form.integer("hold_days", required=True, minimum=0, maximum=365),
              "max_paid_referrals_per_day": form.integer("daily_cap", minimum=1),
              "max_joins_per_ip_per_hour": form.integer("ip_cap", minimum=1),
              "min_withdrawal": form.yuan("min_withdrawal")}
    if values["min_withdrawal"] is None:  # left blank: the program's default (¥1)
        del values["min_withdrawal"]
    if not rates and "level-1" not in form.errors:
        form.errors["level-1"] = N_("至少设置一级佣金比例")
    form.raise_if_invalid()
    return values


# Shared templates have no input of their own on the page: their errors show at the reward.
_PROGRAM_FIELDS = {"levels": "level-1", "hold_days": "hold_days",
                   "max_paid_referrals_per_day": "daily_cap",
                   "max_joins_per_ip_per_hour": "ip_cap", "trigger": "trigger",
                   "min_withdrawal": "min_withdrawal",
                   "reward_coupon_template_id": "reward",
                   "share_coupon_template_ids": "reward"}


async def save_program(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    raw = await request.body()
    svc = services(request)
    shown = _shown(raw, data)
    try:
        program = ProgramIn.model_validate(_read_program(raw, data))
        async with svc.unit() as unit:
            await service.put_program(unit.conn, user.merchant.id, program, svc.clock.now())
    except FormErrors as exc:
        return await _overview(request, user, form=shown, errors=exc.errors, status=422)
    except ValidationError as exc:
        errors = pydantic_errors(exc, _PROGRAM_FIELDS)
        if "levels" in str(exc):
            errors["level-1"] = N_("各级佣金比例合计不能超过百分之百")
        return await _overview(request, user, form=shown, errors=errors, status=422)
    except AppError as exc:
        return await _overview(request, user, form=shown, status=exc.status,
                               errors={"reward": N_("所选优惠券不存在")})
    return redirect("/console/referrals", "program_saved")


def _shown(raw: bytes, data: dict[str, str]) -> dict[str, Any]:
    lists = parse_qs(raw.decode("utf-8", "replace"))
    return {"enabled": data.get("enabled") in ("on", "1", "true"), "reward": data.get("reward", ""),
            "share": lists.get("share", []),
            "levels": [data.get(f"level-{n}", "").strip() for n in range(1, MAX_LEVELS + 1)],
            "trigger": data.get("trigger", "every_order"),
            "hold_days": data.get("hold_days", ""), "daily_cap": data.get("daily_cap", ""),
            "ip_cap": data.get("ip_cap", ""), "min_withdrawal": data.get("min_withdrawal", "")}


async def _member(request: Request, user: ConsoleUser) -> asyncpg.Record:
    member = await member_queries.member_by_id(services(request).pool, user.merchant.id,
                                               request.path_params["member_id"])
    if member is None:
        raise NotFound("No such member.")
    return member


async def member_referrals(request: Request, user: ConsoleUser) -> Response:
    pool = services(request).pool
    member = await _member(request, user)
    program = await queries.program(pool, user.merchant.id)
    depth = max(2, len(program["level_rates_bp"])) if program is not None else 2
    rows = await queries.downline(pool, user.merchant.id, member["id"], depth, DOWNLINE_ROWS)
    levels: dict[int, list[asyncpg.Record]] = {n: [] for n in range(1, depth + 1)}
    for row in rows:
        levels.setdefault(row["level"], []).append(row)
    referrer = None
    if member["referrer_id"]:
        referrer = await member_queries.member_by_id(pool, user.merchant.id,
                                                     member["referrer_id"])
    entries = await ledger_queries.entries_of_member(pool, member["id"], None, LEDGER_ROWS)
    return render_page(request, user, "console/referrer.html", {
        "member": member, "referrer": referrer, "levels": levels,
        "balance": await ledger.balance(pool, member["id"]),
        "entries": [service.commission_out(e) for e in entries]}, active="referrals")


async def commissions_csv(request: Request, user: ConsoleUser) -> Response:
    pool = services(request).pool
    # ?store=: the commissions of orders taken at that store; 404 if it is not ours.
    store = await store_param(request, user.merchant.id)
    store_id = store["id"] if store else None

    async def batch(after: str | None, n: int) -> list[Any]:
        return await ledger_queries.commissions_for_export(pool, user.merchant.id, after, n,
                                                           store_id=store_id)

    kind = labels.words(request, labels.COMMISSION_KIND)
    status = labels.words(request, labels.STATUS)
    return csv_response(
        request, filename=f"commissions-{store_id}.csv" if store_id else "commissions.csv",
        time_zone=user.merchant.time_zone,
        header=[N_("流水ID"), N_("时间"), N_("订单号"), N_("受益会员ID"), N_("受益会员编号"),
                N_("受益会员手机号"), N_("下单会员ID"), N_("层级"), N_("类型"),
                N_("金额(元)"), N_("比例(基点)"), N_("状态"), N_("可提现时间"),
                N_("解冻时间"), N_("门店名称")],
        read_batch=batch,
        to_row=lambda r: [r["id"], r["created_at"], r["order_id"], r["beneficiary_id"],
                          r["beneficiary_external_id"], r["beneficiary_phone"], r["buyer_id"],
                          r["level"], kind(r["kind"]), Yuan(r["amount"]), r["rate_bp"],
                          status(r["status"]),
                          r["available_at"], r["released_at"], r["store_name"]])


async def member_section(request: Request, user: ConsoleUser,
                         member: asyncpg.Record) -> MemberSection:
    pool = services(request).pool
    invitees = await queries.downline(pool, user.merchant.id, member["id"], 1, DOWNLINE_ROWS)
    return MemberSection("console/_member_referrals.html", {
        "invitees": len(invitees), "balance": await ledger.balance(pool, member["id"])},
        order=40)



routes: list[Route] = [
    page_route("/console/referrals", overview, allow=MANAGERS),
    page_route("/console/referrals/program", save_program, methods=("POST",), allow=MANAGERS),
    page_route("/console/referrals/members/{member_id}", member_referrals, allow=MANAGERS),
    page_route("/console/exports/commissions.csv", commissions_csv, allow=MANAGERS),
]
