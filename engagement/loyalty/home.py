"""The loyalty card on the member home: the way to the next tier (再消费 ¥120 升级金卡, or
再得 120 积分升级金卡, by the next tier's rule), and the ways to the points mall, the points
history and the profile."""

from __future__ import annotations

from starlette.requests import Request

from engagement.home import HomeSection
from engagement.kit.state import services
from engagement.loyalty.tiers import service as tiers
from engagement.members import queries as member_queries
from engagement.members.schemas import MemberPrincipal


async def home_card(request: Request, principal: MemberPrincipal) -> HomeSection | None:
    svc = services(request)
    member = await member_queries.member_by_id(svc.pool, principal.merchant.id,
                                               principal.member_id)
    if member is None:
        return None
    progress = await tiers.progress(svc.pool, principal.merchant.id, principal.member_id,
                                    member["tier"], svc.clock.now())
    return HomeSection("_loyalty_card.html", {"progress": progress}, order=5)
