"""The console's points mall page (积分商城): the rewards, on or off the shelf, and a form to
put a coupon template in the mall at a price in points with its own stock. Both go through
the API's own models and services (RewardCreate and create_reward, RewardPatch and
set_active), so page and ``/api/v1/rewards`` never disagree."""

from __future__ import annotations

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
from engagement.loyalty.mall import service
from engagement.loyalty.mall.schemas import RewardCreate, RewardPatch

PATH = "/console/rewards"
NAV = NavItem("rewards", PATH, N_("积分商城"), order=48)
NOTICES = {"reward_added": N_("奖品已上架"), "reward_on": N_("奖品已重新上架，会员可以兑换了"),
           "reward_off": N_("奖品已下架，会员看不到了")}
MAX_SHOWN = 200  # a mall holds a few dozen rewards; the page shows them all


async def _page(request: Request, user: ConsoleUser, *, form: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    return render_page(request, user, "console/rewards.html", {
        "rewards": await service.list_rewards(pool, user.merchant.id, None, MAX_SHOWN,
                                              include_inactive=True),
        "templates": await coupon_queries.templates_of_merchant(pool, user.merchant.id),
        "form": form or {}, "errors": errors or {}}, status=status, active="rewards")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user)


def _read(data: dict[str, str]) -> RewardCreate:
    form = Form(data)
    template = form.text("coupon_template_id", required=True, max_length=64)
    cost = form.integer("cost_points", required=True, minimum=1, maximum=100_000_000)
    stock = form.integer("stock", required=True, minimum=0, maximum=10_000_000)
    form.raise_if_invalid()
    return RewardCreate.model_validate({"coupon_template_id": template, "cost_points": cost,
                                        "stock": stock})


async def create(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    svc = services(request)
    try:
        reward = _read(data)
        async with svc.unit() as unit:
            await service.create_reward(unit.conn, user.merchant.id, reward, svc.clock.now())
    except FormErrors as exc:
        return await _page(request, user, form=data, errors=exc.errors, status=422)
    except ValidationError as exc:
        return await _page(request, user, form=data, status=422,
                           errors=pydantic_errors(exc))
    except UnknownTemplate as exc:
        return await _page(request, user, form=data, status=exc.status,
                           errors={"coupon_template_id": N_("所选优惠券不存在")})
    return redirect(PATH, "reward_added")


async def toggle(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    active = data.get("active") == "on"
    async with services(request).unit() as unit:
        await service.set_active(unit.conn, user.merchant.id, request.path_params["reward_id"],
                                 RewardPatch(active=active))
    return redirect(PATH, "reward_on" if active else "reward_off")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(PATH, create, methods=("POST",), allow=MANAGERS),
          page_route(PATH + "/{reward_id}/active", toggle, methods=("POST",), allow=MANAGERS)]
