"""The paid membership card on the member home: the plan, its end date and benefits (the
discount, the monthly coupon), and in the last REMIND_DAYS days a reminder to renew."""

from __future__ import annotations

import math
from datetime import timedelta

from starlette.requests import Request

from engagement.coupons import queries as coupon_queries
from engagement.home import HomeSection
from engagement.kit.state import services
from engagement.loyalty.membership import service
from engagement.members.schemas import MemberPrincipal

REMIND_DAYS = 7


async def home_card(request: Request, principal: MemberPrincipal) -> HomeSection | None:
    svc = services(request)
    now = svc.clock.now()
    membership = await service.member_membership(svc.pool, principal.merchant.id,
                                                 principal.member_id, now)
    if membership is None or not membership.active:
        return None
    coupon = None
    if membership.monthly_coupon_template_id is not None:
        coupon = await coupon_queries.template_by_id(svc.pool, principal.merchant.id,
                                                     membership.monthly_coupon_template_id)
    left = membership.ends_at - now
    days_left = max(1, math.ceil(left / timedelta(days=1)))
    return HomeSection("_membership_card.html", {
        "membership": membership, "coupon": coupon, "days_left": days_left,
        "remind": left <= timedelta(days=REMIND_DAYS),
        "time_zone": principal.merchant.time_zone}, order=4)
