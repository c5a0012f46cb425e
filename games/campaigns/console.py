"""Console pages of the games domain: the campaign list, the builder (with live odds, the
inventory check and the cost preview), a preview of the member's game page, publishing and
the rest of the lifecycle, the live dashboard, and the draws CSV."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engagement.console import labels
from engagement.console.export import csv_response
from engagement.console.forms import FormErrors
from engagement.console.shell import (
    MANAGERS,
    ConsoleUser,
    MemberSection,
    page_route,
    redirect,
    render_page,
)
from engagement.coupons import queries as coupon_queries
from engagement.coupons.service import InsufficientInventory
from engagement.kit.errors import AppError, NotFound
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.kit.web import static_url
from engagement.stores.filters import store_param, stores_of
from games.campaigns import builder, dashboard, service
from games.campaigns import queries as campaign_queries
from games.campaigns.catalog import GAMES, LABELS, TEMPLATES
from games.campaigns.play_view import PlayView, join_url
from games.campaigns.schemas import CampaignOut
from games.draw import queries as draw_queries

CAMPAIGNS_LISTED = 200
_PRIZE_KEY = re.compile(r"^prize-(\d+)-")
MEMBER_DRAWS = 20

NOTICES = {
    "campaign_created": N_("活动已创建（草稿）。检查奖品和成本预估后即可发布。"),
    "campaign_saved": N_("修改已保存"),
    "campaign_publish": N_("活动已发布，会员现在可以参与了"),
    "campaign_pause": N_("活动已暂停"), "campaign_resume": N_("活动已恢复"),
    "campaign_end": N_("活动已结束，未中出的券会退回库存"),
}


async def _templates(pool: asyncpg.Pool, merchant_id: str) -> dict[str, asyncpg.Record]:
    return {t["id"]: t for t in await coupon_queries.templates_of_merchant(pool, merchant_id)}


def _template_options(templates: dict[str, asyncpg.Record]) -> list[dict[str, Any]]:
    return [{"id": t["id"], "name": t["name"], "available": t["available"],
             "discount": t["discount"], "min_spend": t["min_spend"]}
            for t in templates.values()]


async def campaigns_page(request: Request, user: ConsoleUser) -> Response:
    rows = await campaign_queries.campaigns_of_merchant(services(request).pool, user.merchant.id,
                                               CAMPAIGNS_LISTED)
    return render_page(request, user, "console/campaigns.html",
                       {"campaigns": rows, "games": LABELS},
                       active="campaigns")


# The builder

def _form_from(campaign: CampaignOut, time_zone: str) -> dict[str, str]:
    """A campaign as builder fields (for "copy as a new campaign" and for editing)."""
    from engagement.kit.formats import local_time

    form = {"name": campaign.name, "game": campaign.game, "rules": campaign.rules,
            "starts_at": local_time(campaign.starts_at, time_zone, "%Y-%m-%dT%H:%M"),
            "ends_at": local_time(campaign.ends_at, time_zone, "%Y-%m-%dT%H:%M"),
            "per_member_per_day": str(campaign.limits.per_member_per_day or ""),
            "per_member_total": str(campaign.limits.per_member_total or ""),
            "entry_cost_points": str(campaign.entry_cost_points or ""),
            **{f"chance_{k}": str(v or "") for k, v in campaign.chances.model_dump().items()},
            **builder.pity_fields(campaign)}
    for i, p in enumerate(campaign.prizes):
        form |= {f"prize-{i}-name": p.name, f"prize-{i}-kind": p.kind,
                 f"prize-{i}-template": p.coupon_template_id or "",
                 f"prize-{i}-points": str(p.points or ""),
                 f"prize-{i}-quantity": "" if p.quantity is None else str(p.quantity),
                 f"prize-{i}-weight": str(p.weight), f"prize-{i}-id": p.id}
    return form


def _default_form() -> dict[str, str]:
    return {"game": "wheel", "per_member_per_day": "3",
            "prize-0-kind": "coupon", "prize-0-weight": "10",
            "prize-1-kind": "points", "prize-1-name": "10积分", "prize-1-points": "10",
            "prize-1-weight": "30",
            "prize-2-kind": "nothing", "prize-2-name": "谢谢参与", "prize-2-weight": "60"}


def _rows(form: dict[str, str], campaign: CampaignOut | None = None) -> list[dict[str, Any]]:
    """Prize rows for the builder's script."""
    rows = []
    for n, i in enumerate(builder.prize_indexes(form)):
        p = f"prize-{i}-"
        row = {"key": n, "index": i, "kind": form.get(p + "kind", "coupon"),
               "name": form.get(p + "name", ""), "template": form.get(p + "template", ""),
               "points": form.get(p + "points", ""), "quantity": form.get(p + "quantity", ""),
               "weight": form.get(p + "weight", "1"), "id": form.get(p + "id", "")}
        if campaign is not None and n < len(campaign.prizes):
            prize = campaign.prizes[n]
            row["won"] = (prize.quantity - (prize.remaining or 0)) \
                if prize.quantity is not None else 0
            row["unlimited"] = prize.quantity is None
        rows.append(row)
    return rows


async def _builder(request: Request, user: ConsoleUser, form: dict[str, str], *,
                   campaign: CampaignOut | None = None, errors: FormErrors | None = None,
                   status: int = 200) -> Response:
    templates = await _templates(services(request).pool, user.merchant.id)
    players = _players(form)
    preview = builder.cost_preview(builder.loose_prizes(form), templates, players,
                                   _plays(form))
    rows = _rows(form, campaign)
    row_number = {row["index"]: n + 1 for n, row in enumerate(rows)}
    prize_errors = []  # also listed above the form: readable without the script
    for key, message in (errors.errors if errors else {}).items():
        if (found := _PRIZE_KEY.match(key)) and int(found.group(1)) in row_number:
            prize_errors.append((row_number[int(found.group(1))], message,
                                 errors.params.get(key, {}) if errors else {}))
    config = {"templates": _template_options(templates), "prizes": rows,
              "mode": "edit" if campaign else "new",
              "live": campaign is not None and campaign.status in ("active", "paused"),
              "maxPrizes": builder.MAX_PRIZES, "pityPrize": form.get("pity_prize", "")}
    return render_page(request, user, "console/builder.html", {
        "form": form, "campaign": campaign, "games": GAMES, "config": config,
        "templates": templates, "preview": preview,
        "errors": errors.errors if errors else {}, "prize_errors": sorted(prize_errors),
        "error_params": errors.params if errors else {}}, status=status, active="campaigns")


def _players(form: dict[str, str] | Any) -> int:
    try:
        return max(1, min(100_000_000, int(form.get("players") or builder.DEFAULT_PLAYERS)))
    except ValueError:
        return builder.DEFAULT_PLAYERS


def _plays(form: dict[str, str] | Any) -> float:
    try:
        value = float(form.get("plays") or 0)
    except ValueError:
        value = 0
    if 0 < value <= 10_000:
        return value

    def number(name: str) -> int | None:
        text = form.get(name) or ""
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if not (text.isdecimal() and len(text) <= 9):
            return None
        return int(text) or None

    return builder.plays_per_player(number("per_member_per_day"), number("per_member_total"))


async def new_campaign_page(request: Request, user: ConsoleUser) -> Response:
    source = request.query_params.get("from")
    form = _default_form()
    if source:
        campaign = await service.campaign_out(services(request), user.merchant.id, source)
        form = _form_from(campaign, user.merchant.time_zone)
        form["name"] = f"{campaign.name}（副本）"[:120]
        form = {k: v for k, v in form.items() if not k.endswith("-id")}
    return await _builder(request, user, form)


async def create_campaign(request: Request, user: ConsoleUser) -> Response:
    svc = services(request)
    data = await read_form(request, max_bytes=65_536)
    try:
        body = await builder.read_create(svc.pool, user.merchant.id, data,
                                         user.merchant.time_zone)
        async with svc.unit() as unit:
            campaign_id = await service.create_campaign(unit.conn, user.merchant.id, body)
    except FormErrors as exc:
        return await _builder(request, user, data, errors=exc, status=422)
    except AppError as exc:  # a template deleted meanwhile, and the like
        return await _builder(request, user, data, status=exc.status,
                              errors=FormErrors({"prizes": N_("奖品设置有误，请检查")}))
    return redirect(f"/console/campaigns/{campaign_id}", "campaign_created")


async def cost_preview(request: Request, user: ConsoleUser) -> Response:
    """The builder's cost preview as the merchant types (htmx, GET with the form's fields)."""
    query = dict(request.query_params)
    templates = await _templates(services(request).pool, user.merchant.id)
    preview = builder.cost_preview(builder.loose_prizes(query), templates, _players(query),
                                   _plays(query))
    return render_page(request, user, "console/_cost_preview.html", {"preview": preview})


async def edit_page(request: Request, user: ConsoleUser) -> Response:
    campaign = await _campaign(request, user)
    if campaign.status == "ended":
        return redirect(f"/console/campaigns/{campaign.id}")
    return await _builder(request, user, _form_from(campaign, user.merchant.time_zone),
                          campaign=campaign)


async def update_campaign(request: Request, user: ConsoleUser) -> Response:
    svc = services(request)
    campaign = await _campaign(request, user)
    data = await read_form(request, max_bytes=65_536)
    form = {**_form_from(campaign, user.merchant.time_zone), **data}
    try:
        body = builder.read_update(data, campaign, user.merchant.time_zone)
        async with svc.unit() as unit:
            await service.update(unit, svc, user.merchant.id, campaign.id, body)
    except FormErrors as exc:
        return await _builder(request, user, form, campaign=campaign, errors=exc, status=422)
    except InsufficientInventory:
        return await _builder(request, user, form, campaign=campaign, status=409,
                              errors=FormErrors({"prizes": N_("优惠券库存不足，无法增加奖品数量")}))
    except AppError as exc:
        return await _builder(request, user, form, campaign=campaign, status=exc.status,
                              errors=FormErrors({"prizes": N_("这个活动现在不能这样修改")}))
    await service.after_change(svc, campaign.id, user.merchant.time_zone)
    return redirect(f"/console/campaigns/{campaign.id}", "campaign_saved")


# One campaign: setup (drafts) or the live dashboard

async def _campaign(request: Request, user: ConsoleUser) -> CampaignOut:
    return await service.campaign_out(services(request), user.merchant.id,
                                      request.path_params["campaign_id"])


async def _campaign_view(request: Request, user: ConsoleUser, *, error: str | None = None,
                         status: int = 200) -> Response:
    svc = services(request)
    campaign_id = request.path_params["campaign_id"]
    templates = await _templates(svc.pool, user.merchant.id)
    campaign = await _campaign(request, user)
    context: dict[str, Any] = {"campaign": campaign, "templates": templates, "error": error,
                               "games": LABELS}
    if campaign.status == "draft":
        plays = builder.plays_per_player(campaign.limits.per_member_per_day,
                                         campaign.limits.per_member_total)
        context["preview"] = builder.cost_preview(
            [p.model_dump() for p in campaign.prizes], templates, builder.DEFAULT_PLAYERS,
            plays)
        context["plays"] = plays
        return render_page(request, user, "console/campaign_draft.html", context,
                           status=status, active="campaigns")
    store = await store_param(request, user.merchant.id)  # the redeemed figures' store
    context["dash"] = await dashboard.build(svc, user.merchant.id, campaign_id,
                                            user.merchant.time_zone, store)
    context["stores"] = await stores_of(request, user.merchant.id)
    return render_page(request, user, "console/dashboard.html", context, status=status,
                       active="campaigns")


async def campaign_page(request: Request, user: ConsoleUser) -> Response:
    return await _campaign_view(request, user)


async def draft_cost_preview(request: Request, user: ConsoleUser) -> Response:
    campaign = await _campaign(request, user)
    templates = await _templates(services(request).pool, user.merchant.id)
    query = dict(request.query_params)
    query.setdefault("per_member_per_day", str(campaign.limits.per_member_per_day or ""))
    query.setdefault("per_member_total", str(campaign.limits.per_member_total or ""))
    preview = builder.cost_preview([p.model_dump() for p in campaign.prizes], templates,
                                   _players(query), _plays(query))
    return render_page(request, user, "console/_cost_preview.html", {"preview": preview})


_TRANSITION_ERRORS = {
    "insufficient_inventory": N_(
        "优惠券库存不足，无法发布：请先给相关优惠券补充库存，或减少奖品数量。"),
    "invalid_status_transition": N_(
        "活动当前状态不能执行这个操作（可能已被其他人更改），请刷新页面。"),
}


def _transition(action: str) -> Any:
    async def handler(request: Request, user: ConsoleUser) -> Response:
        svc = services(request)
        campaign_id = request.path_params["campaign_id"]
        try:
            async with svc.unit() as unit:
                await service.transition(unit, svc, user.merchant.id, campaign_id, action)
        except NotFound:
            raise
        except AppError as exc:
            message = _TRANSITION_ERRORS.get(exc.code, N_("操作没有成功，请稍后再试。"))
            return await _campaign_view(request, user, error=message, status=exc.status)
        await service.after_change(svc, campaign_id, user.merchant.time_zone)
        return redirect(f"/console/campaigns/{campaign_id}", f"campaign_{action}")

    handler.__name__ = f"{action}_campaign"
    return handler


async def panel(request: Request, user: ConsoleUser) -> Response:
    """The dashboard's numbers and prize table, refreshed by htmx every few seconds."""
    dash = await dashboard.build(services(request), user.merchant.id,
                                 request.path_params["campaign_id"], user.merchant.time_zone,
                                 await store_param(request, user.merchant.id))
    return render_page(request, user, "console/_dashboard_panel.html",
                       {"dash": dash, "campaign": dash.campaign})


async def series(request: Request, user: ConsoleUser) -> Response:
    """The dashboard's chart data, fetched by its script every few seconds."""
    dash = await dashboard.build(services(request), user.merchant.id,
                                 request.path_params["campaign_id"], user.merchant.time_zone)
    return JSONResponse(dash.chart_data(user.merchant.time_zone),
                        headers={"Cache-Control": "private, no-store"})


async def preview(request: Request, user: ConsoleUser) -> Response:
    """The member's game page as it will look (drafts included), for the console's frame."""
    svc = services(request)
    campaign = await _campaign(request, user)
    view = PlayView(campaign=campaign, merchant=user.merchant, member=None, now=svc.clock.now(),
                    join_url=join_url(user.merchant, f"/play/{campaign.id}"))
    response = render_page(request, user, TEMPLATES[campaign.game], {
        "campaign": campaign, "view": view, "preview": True,
        "draw_url": f"/api/v1/campaigns/{campaign.id}/draws",
        "icons": {kind: static_url(f"img/prize-{kind}.svg")
                  for kind in ("coupon", "points", "nothing")}})
    # Shown inside the console's own page, so framing by this site is allowed here.
    csp = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = csp.replace("frame-ancestors 'none'",
                                                              "frame-ancestors 'self'")
    return response


async def draws_csv(request: Request, user: ConsoleUser) -> Response:
    if request.query_params.get("store"):  # every draw would pass for one store's
        raise dashboard.DrawsNotStoreBound(fields=[{"field": "store"}])
    pool = services(request).pool
    campaign_id = request.query_params.get("campaign_id") or ""
    campaign = await service.load(pool, user.merchant.id, campaign_id)  # 404 if not ours

    async def batch(after: str | None, n: int) -> list[Any]:
        return await draw_queries.draws_for_export(pool, campaign["id"], after, n)

    status, kind = labels.words(request, labels.STATUS), labels.words(request, labels.PRIZE_KIND)
    return csv_response(
        request, filename=f"draws-{campaign_id}.csv", time_zone=user.merchant.time_zone,
        header=[N_("抽奖ID"), N_("时间"), N_("会员ID"), N_("会员编号"), N_("手机号"),
                N_("结果"), N_("奖品ID"), N_("奖品"), N_("奖品类型"), N_("消耗积分"),
                N_("结算时间")],
        read_batch=batch,
        to_row=lambda r: [r["id"], r["created_at"], r["member_id"], r["external_id"],
                          r["phone"], status(r["outcome"]), r["prize_id"], r["prize_name"],
                          kind(r["prize_kind"]), r["points_spent"], r["settled_at"]])


async def member_draws(request: Request, user: ConsoleUser,
                       member: asyncpg.Record) -> MemberSection:
    rows = await draw_queries.recent_draws_of_member(services(request).pool, member["id"],
                                                MEMBER_DRAWS)
    return MemberSection("console/_member_draws.html", {"draws": rows}, order=20)


_C = "/console/campaigns"
routes: list[Route] = [
    page_route(_C, campaigns_page, allow=MANAGERS),
    page_route(f"{_C}/new", new_campaign_page, allow=MANAGERS),
    page_route(f"{_C}/new", create_campaign, methods=("POST",), allow=MANAGERS),
    page_route(f"{_C}/cost-preview", cost_preview, allow=MANAGERS),
    page_route(f"{_C}/{{campaign_id}}", campaign_page, allow=MANAGERS),
    page_route(f"{_C}/{{campaign_id}}/edit", edit_page, allow=MANAGERS),
    page_route(f"{_C}/{{campaign_id}}/edit", update_campaign, methods=("POST",),
               allow=MANAGERS),
    page_route(f"{_C}/{{campaign_id}}/cost-preview", draft_cost_preview, allow=MANAGERS),
    page_route(f"{_C}/{{campaign_id}}/panel", panel, allow=MANAGERS),
    page_route(f"{_C}/{{campaign_id}}/series.json", series, allow=MANAGERS),
    page_route(f"{_C}/{{campaign_id}}/preview", preview, allow=MANAGERS),
    *[page_route(f"{_C}/{{campaign_id}}/{action}", _transition(action), methods=("POST",),
                 allow=MANAGERS) for action in ("publish", "pause", "resume", "end")],
    page_route("/console/exports/draws.csv", draws_csv, allow=MANAGERS),
]
