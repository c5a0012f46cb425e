"""The game pages members play on (``play_url``), and the games' sections of the member home."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.home import HomeSection
from engagement.kit.errors import NotFound
from engagement.kit.state import Services, services
from engagement.kit.web import render, static_url
from engagement.members import queries as member_queries
from engagement.members.schemas import MemberPrincipal
from engagement.merchants import queries as merchant_queries
from engagement.merchants.schemas import Merchant
from games.campaigns import queries as campaign_queries
from games.campaigns import service
from games.campaigns.catalog import LABELS, TEMPLATES
from games.campaigns.play_view import Member, PlayView, join_url
from games.chances import service as chances
from games.draw import fairness
from games.draw import queries as draw_queries

# The member home lists this many open games and recent draws.
HOME_GAMES = 10
HOME_DRAWS = 10
# The verify page checks up to this many of the member's draws of one campaign.
VERIFY_DRAWS = 1000


async def _published(svc: Services, campaign_id: str) -> tuple[asyncpg.Record, Merchant]:
    """A campaign members may see, and its merchant. Drafts are the merchant's work in
    progress: they do not exist for members."""
    row = await draw_queries.campaign_by_id(svc.pool, campaign_id)
    if row is None or row["status"] == "draft":
        raise NotFound("No such campaign.")
    merchant = await merchant_queries.merchant_by_id(svc.pool, row["merchant_id"])
    assert merchant is not None
    return row, merchant


async def play(request: Request) -> Response:
    svc = services(request)
    campaign_id = request.path_params["campaign_id"]
    _, merchant = await _published(svc, campaign_id)
    # The commitment is on the page from the start, also for a campaign published before
    # draws were provably fair (its seed is fixed now, before its next draw).
    await fairness.committed(svc, campaign_id)
    campaign = await service.campaign_out(svc, merchant.id, campaign_id)
    now = svc.clock.now()
    principal = await optional_member(request)
    member = None
    # A member of another merchant is a visitor here.
    if principal is not None and principal.merchant.id == merchant.id:
        member = await _member(request, principal, campaign_id, merchant.time_zone)
    view = PlayView(campaign=campaign, merchant=merchant, member=member, now=now,
                    join_url=join_url(merchant, request.url.path))
    return render(request, TEMPLATES[campaign.game], {
        "merchant": merchant, "campaign": campaign, "view": view,
        "draw_url": f"/api/v1/campaigns/{campaign_id}/draws",
        "icons": {kind: static_url(f"img/prize-{kind}.svg")
                  for kind in ("coupon", "points", "nothing")}})


async def verify(request: Request) -> Response:
    """/play/{id}/verify: the member's own draws of a campaign, recomputed in the browser
    (static/js/verify.js) from the revealed seed once the campaign has ended."""
    svc = services(request)
    campaign_id = request.path_params["campaign_id"]
    row, merchant = await _published(svc, campaign_id)
    record = await fairness.reveal(svc.pool, campaign_id)
    principal = await optional_member(request)
    member = principal is not None and principal.merchant.id == merchant.id
    draws = []
    if principal is not None and member:
        for d in await draw_queries.member_draws_of_campaign(svc.pool, campaign_id,
                                                             principal.member_id, VERIFY_DRAWS):
            body = d["response"] if isinstance(d["response"], dict) else json.loads(d["response"])
            draws.append({"id": d["id"], "created_at": d["created_at"], "body": body})
    return render(request, "verify.html", {
        "merchant": merchant, "campaign": row, "record": record, "member": member,
        "draws": draws, "pity": service.pity_of(row),
        "prizes": [p.model_dump() for p in record.prizes],
        "join_url": join_url(merchant, request.url.path)})


async def _member(request: Request, principal: MemberPrincipal, campaign_id: str,
                  time_zone: str) -> Member | None:
    svc = services(request)
    row = await member_queries.member_by_id(svc.pool, principal.merchant.id, principal.member_id)
    if row is None:
        return None
    today = svc.clock.now().astimezone(ZoneInfo(time_zone)).date()
    counts = await draw_queries.member_draw_counts_for(svc.pool, campaign_id, row["id"], today)
    return Member(id=row["id"], points=row["points"], draws_today=counts["today"],
                  draws_total=counts["total"],
                  chances=await chances.left(svc.pool, campaign_id, row["id"]))


async def open_games_section(request: Request, principal: MemberPrincipal) -> HomeSection:
    svc = services(request)
    rows = await campaign_queries.open_campaigns(svc.pool, principal.merchant.id, svc.clock.now(),
                                        HOME_GAMES)
    return HomeSection("_open_games.html", {"games": rows, "labels": LABELS}, order=10)


async def my_draws_section(request: Request, principal: MemberPrincipal) -> HomeSection:
    rows = await draw_queries.recent_draws_of_member(services(request).pool, principal.member_id,
                                                HOME_DRAWS)
    return HomeSection("_my_draws.html", {"draws": rows}, order=30)



routes = [Route("/play/{campaign_id}", play, methods=["GET"]),
          Route("/play/{campaign_id}/verify", verify, methods=["GET"])]
