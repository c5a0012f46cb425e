"""The console's member pages: search (phone, name, member number, id) and a member's
coupons, orders, points and the sections domains add."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console.shell import (
    MANAGERS,
    ConsoleUser,
    is_htmx,
    member_sections,
    page_route,
    render_page,
)
from engagement.coupons import queries as coupon_queries
from engagement.kit.errors import NotFound
from engagement.kit.state import services
from engagement.members import queries as member_queries
from engagement.orders import queries as order_queries
from engagement.points import queries as points_queries

MEMBERS_PER_PAGE = 50
MEMBER_DETAIL_ROWS = 20


async def members_page(request: Request, user: ConsoleUser) -> Response:
    pool = services(request).pool
    q = (request.query_params.get("q") or "").strip()[:64] or None
    before = request.query_params.get("before") or None
    rows = await member_queries.search_members(pool, user.merchant.id, q, before, MEMBERS_PER_PAGE)
    context = {"members": rows, "q": q or "",
               "more": rows[-1]["id"] if len(rows) == MEMBERS_PER_PAGE else None}
    if is_htmx(request) and not request.headers.get("hx-history-restore-request"):
        return render_page(request, user, "console/_member_rows.html", context)
    context["total"] = await member_queries.count_members(pool, user.merchant.id)
    return render_page(request, user, "console/members.html", context, active="members")


async def member_page(request: Request, user: ConsoleUser) -> Response:
    pool = services(request).pool
    member = await member_queries.member_by_id(pool, user.merchant.id,
                                               request.path_params["member_id"])
    if member is None:
        raise NotFound("No such member.")
    referrer = None
    if member["referrer_id"]:
        referrer = await member_queries.member_by_id(pool, user.merchant.id,
                                                     member["referrer_id"])
    return render_page(request, user, "console/member.html", {
        "member": member, "referrer": referrer,
        "coupons": await coupon_queries.coupons_of_member(pool, member["id"], None,
                                                          MEMBER_DETAIL_ROWS),
        "orders": await order_queries.orders_of_member(pool, user.merchant.id, member["id"],
                                                 MEMBER_DETAIL_ROWS),
        "order_totals": await order_queries.order_totals_of_member(pool, user.merchant.id,
                                                             member["id"]),
        "points": await points_queries.points_of_member(pool, member["id"], MEMBER_DETAIL_ROWS),
        "sections": await member_sections(request, user, member)}, active="members")


routes: list[Route] = [
    page_route("/console/members", members_page, allow=MANAGERS),
    page_route("/console/members/{member_id}", member_page, allow=MANAGERS),
]
