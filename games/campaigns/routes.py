from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_merchant
from engagement.kit.http import (
    ApiDoc,
    Handler,
    api_route,
    json_response,
    parse_body,
)
from engagement.kit.state import services
from games.campaigns import service
from games.campaigns.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    StatsOut,
)

TAG = "Campaigns and draws"


async def create_campaign(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, CampaignCreate)
    svc = services(request)
    async with svc.unit() as unit:
        campaign_id = await service.create_campaign(unit.conn, merchant.id, data)
    return json_response(await service.campaign_out(svc, merchant.id, campaign_id), status=201)


async def get_campaign(request: Request) -> Response:
    merchant = await require_merchant(request)
    out = await service.campaign_out(services(request), merchant.id,
                                     request.path_params["campaign_id"])
    return json_response(out)


async def update_campaign(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, CampaignUpdate)
    svc = services(request)
    campaign_id = request.path_params["campaign_id"]
    async with svc.unit() as unit:
        await service.update(unit, svc, merchant.id, campaign_id, data)
    await service.after_change(svc, campaign_id, merchant.time_zone)
    return json_response(await service.campaign_out(svc, merchant.id, campaign_id))


def _transition(action: str) -> Handler:
    async def handler(request: Request) -> Response:
        merchant = await require_merchant(request)
        svc = services(request)
        campaign_id = request.path_params["campaign_id"]
        async with svc.unit() as unit:
            await service.transition(unit, svc, merchant.id, campaign_id, action)
        await service.after_change(svc, campaign_id, merchant.time_zone)
        return json_response(await service.campaign_out(svc, merchant.id, campaign_id))

    handler.__name__ = f"{action}_campaign"
    return handler


async def campaign_stats(request: Request) -> Response:
    merchant = await require_merchant(request)
    out = await service.stats(services(request), merchant.id, request.path_params["campaign_id"],
                              merchant.time_zone)
    return json_response(out)


_ERRORS = ("not_found", "invalid_status_transition", "insufficient_inventory")
routes = [
    api_route("/api/v1/campaigns", create_campaign, "POST", ApiDoc(
        "Create a campaign (draft) with its prize pool", TAG, auth="merchant",
        body=CampaignCreate, response=CampaignOut, status=201,
        errors=("validation_error", "invalid_prize"))),
    api_route("/api/v1/campaigns/{campaign_id}", get_campaign, "GET", ApiDoc(
        "Get a campaign with prizes, remaining stock and published odds", TAG, auth="merchant",
        response=CampaignOut, errors=("not_found",))),
    api_route("/api/v1/campaigns/{campaign_id}", update_campaign, "PATCH", ApiDoc(
        "Change a campaign: drafts freely; live ones may add quantity, rename, end later", TAG,
        auth="merchant", body=CampaignUpdate, response=CampaignOut,
        errors=("campaign_live_locked", "campaign_ended",
                "insufficient_inventory", "invalid_prize"))),
    *[api_route(f"/api/v1/campaigns/{{campaign_id}}/{action}", _transition(action), "POST",
                ApiDoc(text, TAG, auth="merchant", response=CampaignOut, errors=_ERRORS))
      for action, text in [
          ("publish", "Publish: reserve coupon inventory and open the campaign"),
          ("pause", "Pause draws"), ("resume", "Resume a paused campaign"),
          ("end", "End the campaign; unwon reservations go back to the templates")]],
    api_route("/api/v1/campaigns/{campaign_id}/stats", campaign_stats, "GET", ApiDoc(
        "Live numbers from counters: draws, players, wins per prize, coupons, backlog", TAG,
        auth="merchant", response=StatsOut, errors=("not_found",))),
]
