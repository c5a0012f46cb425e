"""A campaign's poster (活动海报): its QR code opens the campaign's play page; the name, the
dates in the merchant's zone and the merchant's brand go around it. Drawn by the console's
poster pages (engagement/console/posters.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.console.posters import poster_file, poster_page, translate
from engagement.console.shell import MANAGERS, ConsoleUser, page_route
from engagement.kit.branding import brand_of
from engagement.kit.formats import local_time
from engagement.kit.i18n import N_
from engagement.kit.posters import PosterContent
from engagement.kit.state import services
from games.campaigns import service
from games.campaigns.schemas import CampaignOut

_C = "/console/campaigns/{campaign_id}/poster"


async def _campaign(request: Request, user: ConsoleUser) -> CampaignOut:
    return await service.campaign_out(services(request), user.merchant.id,
                                      request.path_params["campaign_id"])


def _dates(request: Request, campaign: CampaignOut, time_zone: str) -> str:
    if not campaign.starts_at and not campaign.ends_at:
        return translate(request, N_("长期有效"))
    if not campaign.ends_at:
        return translate(request, N_("%(when)s 起"),
                         when=local_time(campaign.starts_at, time_zone))
    if not campaign.starts_at:
        return translate(request, N_("截至 %(when)s"),
                         when=local_time(campaign.ends_at, time_zone))
    start, end = (local_time(t, time_zone) for t in (campaign.starts_at, campaign.ends_at))
    return f"{start} ~ {end}"


async def page(request: Request, user: ConsoleUser) -> Response:
    campaign = await _campaign(request, user)
    return poster_page(request, user, heading=translate(request, N_("%(name)s · 活动海报"),
                                                        name=campaign.name),
                       base=f"/console/campaigns/{campaign.id}/poster",
                       back=(f"/console/campaigns/{campaign.id}", campaign.name),
                       url=campaign.play_url, active="campaigns")


async def file(request: Request, user: ConsoleUser) -> Response:
    campaign = await _campaign(request, user)
    content = PosterContent(
        title=campaign.name, dates=_dates(request, campaign, user.merchant.time_zone),
        call=translate(request, N_("微信或手机相机扫码参与")), url=campaign.play_url,
        brand=brand_of(user.merchant))
    return await poster_file(request, content, request.path_params["file"], campaign.name)


routes = [page_route(_C, page, allow=MANAGERS),
          page_route(f"{_C}/{{file}}", file, allow=MANAGERS)]
