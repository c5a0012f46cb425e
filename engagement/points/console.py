"""The console's points pages (积分设置): the earning rule (every ¥X paid earns Y points),
the join bonus and the expiry, saved through the same ProgramIn that
``PUT /api/v1/points-program`` takes; and a member's manual adjustment with a reason, made
through the same service and Idempotency-Key replay as ``POST /api/v1/members/{id}/points``,
so a double post (a double click, a refresh) adjusts once."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, redirect, render_page
from engagement.kit.errors import IdempotencyKeyReused, NotFound
from engagement.kit.http import read_form, request_hash
from engagement.kit.i18n import N_
from engagement.kit.ids import new_id
from engagement.kit.state import services
from engagement.members import queries as member_queries
from engagement.points import queries, service
from engagement.points.schemas import AdjustmentIn, ProgramIn, ProgramOut

PATH = "/console/points"
NOTICES = {"points_saved": N_("积分规则已保存"), "points_adjusted": N_("积分已调整")}
ADJUST_SCOPE = "points.adjust"  # the API's scope: one key is one adjustment, by either door
RECENT_ENTRIES = 10
KEY_PATTERN = r"^adj_[0-9A-Z]+$"
# The ledger's reasons the service writes itself, in words; a manual one is the merchant's.
REASONS = {"order": N_("消费得积分"), "refund": N_("退款扣回"), "join_bonus": N_("入会礼"),
           "expired": N_("积分过期"), "mall": N_("积分商城兑换"), "import": N_("老会员导入")}


def _yuan(cents: int) -> str:
    """Cents as a form shows yuan: 250 is 2.5, 1000 is 10."""
    return f"{cents // 100}.{cents % 100:02d}".rstrip("0").rstrip(".")


def _form_of(program: ProgramOut | None) -> dict[str, Any]:
    if program is None:  # what most shops start with: a point per yuan
        return {"per_amount": "1", "points": "1", "join_bonus": "0", "expiry_days": ""}
    return {"per_amount": _yuan(program.earn.per_amount), "points": str(program.earn.points),
            "join_bonus": str(program.join_bonus),
            "expiry_days": "" if program.expiry_days is None else str(program.expiry_days)}


async def _program(request: Request, user: ConsoleUser) -> ProgramOut | None:
    try:
        return await service.get_program(services(request).pool, user.merchant.id)
    except NotFound:
        return None


async def _page(request: Request, user: ConsoleUser, *, form: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    program = await _program(request, user)
    return render_page(request, user, "console/points.html", {
        "program": program, "form": form or _form_of(program), "errors": errors or {}},
        status=status, active="points")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user)


def _read(data: dict[str, str], kept: ProgramOut | None) -> ProgramIn:
    form = Form(data)
    per_amount = form.yuan("per_amount", required=True)
    points = form.integer("points", required=True, minimum=0, maximum=1_000_000)
    join_bonus = form.integer("join_bonus", minimum=0, maximum=1_000_000) or 0
    expiry_days = form.integer("expiry_days", minimum=1, maximum=3650)
    if per_amount == 0:
        form.errors["per_amount"] = N_("金额要大于 0")
    elif per_amount is not None and points is not None and points > per_amount:
        form.errors["points"] = N_("每消费 1 分钱最多送 1 积分")
    form.raise_if_invalid()
    # What points are worth is not on this page: kept as it is.
    return ProgramIn.model_validate({
        "earn": {"per_amount": per_amount, "points": points}, "join_bonus": join_bonus,
        "expiry_days": expiry_days,
        "point_value": kept.point_value.model_dump() if kept and kept.point_value else None})


async def save(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    svc = services(request)
    try:
        program = _read(data, await _program(request, user))
        async with svc.unit() as unit:
            await service.set_program(unit.conn, user.merchant.id, program, svc.clock.now())
    except FormErrors as exc:
        return await _page(request, user, form=data, errors=exc.errors, status=422)
    except ValidationError as exc:
        return await _page(request, user, form=data, status=422, errors=pydantic_errors(
            exc, {"earn.per_amount": "per_amount", "earn.points": "points"}))
    return redirect(PATH, "points_saved")


# --- A member's manual adjustment --------------------------------------------------------

async def _member(request: Request, user: ConsoleUser) -> Any:
    member = await member_queries.member_by_id(services(request).pool, user.merchant.id,
                                               request.path_params["member_id"])
    if member is None:
        raise NotFound("No such member.")
    return member


async def _adjust_page(request: Request, user: ConsoleUser, member: Any, *,
                       form: dict[str, Any] | None = None,
                       errors: dict[str, str] | None = None,
                       params: dict[str, dict[str, Any]] | None = None,
                       status: int = 200) -> Response:
    pool = services(request).pool
    form = dict(form or {"direction": "add"})
    form["key"] = form.get("key") or new_id("adj")  # one key per form shown: a re-post replays
    return render_page(request, user, "console/member_points.html", {
        "member": member, "balance": await queries.balance(pool, member["id"]),
        "entries": await queries.points_of_member(pool, member["id"], RECENT_ENTRIES),
        "form": form, "errors": errors or {}, "params": params or {}, "reasons": REASONS},
        status=status, active="members")


async def adjust_page(request: Request, user: ConsoleUser) -> Response:
    return await _adjust_page(request, user, await _member(request, user))


def _read_adjustment(data: dict[str, str]) -> tuple[AdjustmentIn, str]:
    form = Form(data)
    amount = form.integer("amount", required=True, minimum=1, maximum=100_000_000)
    reason = form.text("reason", required=True, max_length=120)
    key = data.get("key", "")
    if not re.match(KEY_PATTERN, key):
        form.errors["form"] = N_("页面已过期，请刷新后再提交")
    form.raise_if_invalid()
    assert amount is not None
    delta = -amount if data.get("direction") == "subtract" else amount
    return AdjustmentIn.model_validate({"delta": delta, "reason": reason}), key


async def adjust(request: Request, user: ConsoleUser) -> Response:
    member = await _member(request, user)
    data = await read_form(request)
    svc = services(request)
    now = svc.clock.now()
    try:
        body, key = _read_adjustment(data)
        # The hash covers the API's path, so the key means the same adjustment everywhere.
        api_path = f"/api/v1/members/{member['id']}/points"
        async with svc.unit() as unit:
            await service.respond_once(
                unit.conn, user.merchant.id, ADJUST_SCOPE, key,
                request_hash(api_path, body.model_dump()), now,
                lambda: service.adjust(unit.conn, user.merchant.id, member["id"], body, now,
                                       key=key))
    except FormErrors as exc:
        return await _adjust_page(request, user, member, form=data, errors=exc.errors,
                                  status=422)
    except ValidationError as exc:
        return await _adjust_page(request, user, member, form=data, status=422,
                                  errors=pydantic_errors(exc, {"delta": "amount"}))
    except service.InsufficientPoints:
        balance = await queries.balance(svc.pool, member["id"])
        return await _adjust_page(
            request, user, member, form=data, status=409,
            errors={"amount": N_("积分不足：该会员现有 %(n)s 积分，最多只能扣 %(n)s")},
            params={"amount": {"n": balance}})
    except IdempotencyKeyReused:
        return await _adjust_page(request, user, member, form={**data, "key": ""},
                                  status=422, errors={"form": N_(
                                      "这张表单已经提交过别的内容，请核对积分明细后重新填写")})
    return redirect(f"/console/members/{member['id']}", "points_adjusted")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(PATH, save, methods=("POST",), allow=MANAGERS),
          page_route("/console/members/{member_id}/points", adjust_page, allow=MANAGERS),
          page_route("/console/members/{member_id}/points", adjust, methods=("POST",),
                     allow=MANAGERS)]
