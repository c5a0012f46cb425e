"""The console's page of joins held for review (/console/bindings, owner and manager): a
binding the join-rate rule held (binding.py, reason ``joins_per_ip``) is approved, and its
commissions flow, or rejected, and they never count (binding.review, as the API does)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.console.shell import (
    MANAGERS,
    ConsoleHandler,
    ConsoleUser,
    page_route,
    redirect,
    render_page,
)
from engagement.kit.domain import NavItem
from engagement.kit.i18n import N_
from engagement.kit.state import services
from referrals import binding, queries
from referrals.errors import BindingNotHeld

PATH = "/console/bindings"
ROWS = 200
NAV = NavItem("bindings", PATH, N_("绑定审核"), order=42)  # owner and manager
NOTICES = {"binding_approved": N_("已通过，这位好友的消费会给推荐人计佣金"),
           "binding_rejected": N_("已拒绝，这条推荐关系不再计佣金"),
           "binding_reviewed": N_("这条绑定已经审核过了，列表已刷新")}
# Why a binding was held, in words (binding.py sets the codes).
REASONS = {"joins_per_ip": N_("同一网络一小时内通过同一个分享链接加入的人太多")}
OTHER_REASON = N_("需要人工确认")


async def page(request: Request, user: ConsoleUser) -> Response:
    pool = services(request).pool
    rows = await queries.held_for_review(pool, user.merchant.id, ROWS)
    return render_page(request, user, "console/bindings.html", {
        "rows": rows, "reasons": REASONS, "other_reason": OTHER_REASON},
        active="bindings")


def _review(approve: bool) -> ConsoleHandler:
    async def handler(request: Request, user: ConsoleUser) -> Response:
        svc = services(request)
        try:
            async with svc.unit() as unit:
                await binding.review(unit.conn, user.merchant.id,
                                     request.path_params["member_id"], approve, svc.clock.now())
        except BindingNotHeld:
            return redirect(PATH, "binding_reviewed")
        return redirect(PATH, "binding_approved" if approve else "binding_rejected")

    handler.__name__ = "approve_binding" if approve else "reject_binding"
    return handler


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(f"{PATH}/{{member_id}}/approve", _review(True), methods=("POST",),
                     allow=MANAGERS),
          page_route(f"{PATH}/{{member_id}}/reject", _review(False), methods=("POST",),
                     allow=MANAGERS)]
