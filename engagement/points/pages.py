"""积分明细 (/m/points): the member's balance, what expires in the next 30 days, and the
ledger, newest first, each entry's reason in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.kit.db import transaction
from engagement.kit.http import parse_query
from engagement.kit.i18n import N_
from engagement.kit.pagination import PageQuery
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.members import queries as member_queries
from engagement.pages import signed_out
from engagement.points import service

# Entries per page of the history; "更早的记录" opens the next.
PAGE_SIZE = 30
# "即将过期" looks this far ahead.
EXPIRING_WITHIN = timedelta(days=30)
# The ledger's reasons as members read them. A manual adjustment's reason is the
# merchant's own words, shown under 商家调整.
REASONS = {
    "order": N_("消费获得"),
    "refund": N_("退款扣回"),
    "join_bonus": N_("入会礼"),
    "check_in": N_("每日签到"),
    "mall": N_("积分商城兑换"),
    "draw_prize": N_("抽奖中奖"),
    "draw_entry": N_("参与抽奖"),
    "expired": N_("积分过期"),
    "import": N_("老会员积分导入"),
}
MANUAL = N_("商家调整")


@dataclass(frozen=True)
class ExpiringDay:
    day: date
    points: int


async def points_page(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    page = parse_query(request, PageQuery)
    svc = services(request)
    merchant = principal.merchant
    async with transaction(svc.pool) as conn:  # one connection for the page's reads
        member = await member_queries.member_by_id(conn, merchant.id, principal.member_id)
        if member is None:
            return signed_out(request)
        history = await service.points_page(conn, principal.member_id, page.cursor, PAGE_SIZE)
        soon = await service.expiring_soon(conn, principal.member_id, svc.clock.now(),
                                           EXPIRING_WITHIN)
    zone = ZoneInfo(merchant.time_zone)
    days: dict[date, int] = {}
    for item in soon:
        day = item.expires_at.astimezone(zone).date()
        days[day] = days.get(day, 0) + item.points
    return render(request, "points.html", {
        "merchant": merchant, "member": member, "history": history,
        "reasons": REASONS, "manual": MANUAL, "first_page": page.cursor is None,
        "expiring": [ExpiringDay(d, n) for d, n in sorted(days.items())],
        "expiring_total": sum(days.values()), "expiring_days": EXPIRING_WITHIN.days})


routes = [Route("/m/points", points_page, methods=["GET"])]
