"""The console's tiers page (会员等级): the tiers from the lowest up, each with its threshold
(points earned or spend in yuan) over a window of days and an optional monthly coupon. It
saves through the same TiersIn and set_tiers as ``PUT /api/v1/tiers``, so page and API never
disagree. A blank row adds nothing; clearing a tier's name removes it."""

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
from engagement.loyalty.tiers import service
from engagement.loyalty.tiers.schemas import TiersIn, TiersOut

PATH = "/console/tiers"
NAV = NavItem("tiers", PATH, N_("等级设置"), order=47)
NOTICES = {"tiers_saved": N_("会员等级已保存")}
MAX_TIERS = 20
DEFAULT_WINDOW = "365"


def _yuan(cents: int) -> str:
    """Cents as a form shows yuan: 250 is 2.5, 1000 is 10."""
    return f"{cents // 100}.{cents % 100:02d}".rstrip("0").rstrip(".")


def _form_of(tiers: TiersOut) -> dict[str, str]:
    form: dict[str, str] = {}
    for i, t in enumerate(tiers.tiers):
        form.update({f"tier-{i}-name": t.name,
                     f"tier-{i}-basis": "points" if t.min_points is not None else "spend",
                     f"tier-{i}-threshold": str(t.min_points) if t.min_points is not None
                     else _yuan(t.min_spend or 0),
                     f"tier-{i}-window": str(t.window_days),
                     f"tier-{i}-coupon": t.monthly_coupon_template_id or ""})
    return form


def _rows(form: dict[str, str]) -> int:
    """Rows to show: every row the form holds, and one blank row to add a tier."""
    used = [i for i in range(MAX_TIERS) if any(form.get(f"tier-{i}-{f}", "").strip()
                                               for f in ("name", "threshold"))]
    return min(MAX_TIERS, (max(used) + 2) if used else 1)


async def _page(request: Request, user: ConsoleUser, *, form: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    tiers = await service.get_tiers(pool, user.merchant.id)
    form = form if form is not None else _form_of(tiers)
    return render_page(request, user, "console/tiers.html", {
        "tiers": tiers.tiers, "form": form, "errors": errors or {}, "rows": range(_rows(form)),
        "default_window": DEFAULT_WINDOW,
        "templates": await coupon_queries.templates_of_merchant(pool, user.merchant.id)},
        status=status, active="tiers")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user)


def _read(data: dict[str, str]) -> tuple[TiersIn, dict[str, str]]:
    """The model, and each of its locations' input names (for the API's own errors)."""
    form = Form(data)
    tiers: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    for i in range(MAX_TIERS):
        p = f"tier-{i}-"
        if not any(data.get(p + f, "").strip() for f in ("name", "threshold")):
            continue
        name = form.text(p + "name", required=True, max_length=40)
        if name is not None and name in seen:
            form.errors[p + "name"] = N_("等级名称重复了")
        seen[name or ""] = p + "name"
        spend = data.get(p + "basis") == "spend"
        threshold = form.yuan(p + "threshold", required=True) if spend \
            else form.integer(p + "threshold", required=True, minimum=0,
                              maximum=1_000_000_000)
        window = form.integer(p + "window", required=True, minimum=1, maximum=3650)
        at = f"tiers.{len(tiers)}."
        names.update({at + "name": p + "name", at + "min_points": p + "threshold",
                      at + "min_spend": p + "threshold", at + "window_days": p + "window",
                      at + "monthly_coupon_template_id": p + "coupon"})
        tiers.append({"name": name, "window_days": window,
                      "min_spend" if spend else "min_points": threshold,
                      "monthly_coupon_template_id": data.get(p + "coupon") or None})
    form.raise_if_invalid()
    return TiersIn.model_validate({"tiers": tiers}), names


async def save(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    names: dict[str, str] = {}
    try:
        tiers, names = _read(data)
        async with services(request).unit() as unit:
            await service.set_tiers(unit.conn, user.merchant.id, tiers)
    except FormErrors as exc:
        return await _page(request, user, form=data, errors=exc.errors, status=422)
    except ValidationError as exc:
        return await _page(request, user, form=data, status=422,
                           errors=pydantic_errors(exc, names))
    except UnknownTemplate as exc:
        field = (exc.details.get("fields") or [{}])[0].get("field", "")
        return await _page(request, user, form=data, status=exc.status,
                           errors={names.get(field, "form"): N_("所选优惠券不存在")})
    return redirect(PATH, "tiers_saved")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(PATH, save, methods=("POST",), allow=MANAGERS)]
