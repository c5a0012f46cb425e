from __future__ import annotations

import hashlib
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from engagement.auth import require_member, require_merchant
from engagement.kit.errors import InvalidInput, PayloadTooLarge
from engagement.kit.http import (
    ApiDoc,
    Handler,
    api_route,
    decode_json,
    json_response,
    parse_body,
    parse_query,
)
from engagement.kit.pagination import PageQuery, next_cursor
from engagement.kit.state import services
from games import draws, queries, service
from games.schemas import CampaignCreate, CampaignOut, CampaignUpdate, DrawOut, DrawPage, StatsOut

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


MAX_DRAW_BODY = 4096  # a draw carries no data of its own: an empty body or a small object
_DRAW_HEADERS = [(b"content-type", b"application/json")]


class DrawEndpoint:
    """POST /api/v1/campaigns/{campaign_id}/draws: the hot path, as a plain ASGI app.

    The body is read straight from ``receive`` and the stored answer sent as it is, without
    the Request/Response wrapping (and its second exception layer) that other routes get;
    a draw's budget is tens of microseconds. Errors raised here reach the app's exception
    handlers like any route's."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        principal = await require_member(request)
        raw = await _read_body(receive)
        if raw is None:  # the client left before sending its body: nothing was done
            return
        request_hash = "empty"
        if raw:
            payload = decode_json(raw, request.headers.get("content-type"))
            if not isinstance(payload, dict):
                raise InvalidInput("The body must be a JSON object.",
                                   fields=[{"field": "body"}])
            if payload:
                request_hash = hashlib.sha256(raw).hexdigest()[:16]
        key = request.headers.get("idempotency-key")
        if key is not None and not (0 < len(key) <= 255 and key.isprintable()):
            raise InvalidInput("Idempotency-Key must be 1-255 printable characters.",
                               fields=[{"field": "Idempotency-Key"}])
        body = (await draws.draw(services(request), principal,
                                 scope["path_params"]["campaign_id"], key, request_hash)).encode()
        await send({"type": "http.response.start", "status": 201,
                    "headers": [*_DRAW_HEADERS, (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_DRAW_BODY:
            raise PayloadTooLarge(f"A draw's body is at most {MAX_DRAW_BODY} bytes.",
                                  limit=MAX_DRAW_BODY)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def my_draws(request: Request) -> Response:
    principal = await require_member(request)
    page = parse_query(request, PageQuery)
    rows = await queries.draws_of_member(services(request).pool, principal.member_id,
                                         page.cursor, page.limit)
    items = [DrawOut.model_validate(r["response"] if isinstance(r["response"], dict)
                                    else json.loads(r["response"])) for r in rows]
    return json_response(DrawPage(items=items,
                                  next_cursor=next_cursor([r["id"] for r in rows], page.limit)))


_ERRORS = ("not_found", "invalid_status_transition", "insufficient_inventory")
routes = [
    api_route("/api/v1/campaigns/{campaign_id}/draws", DrawEndpoint(), "POST", ApiDoc(
        "Draw once (member token)", TAG, auth="member", response=DrawOut, status=201,
        idempotent=True,
        errors=("campaign_not_active", "draw_limit_reached", "insufficient_points",
                "rate_limited", "idempotency_key_reused", "not_found", "validation_error",
                "payload_too_large", "unsupported_media_type"))),
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
        errors=("campaign_live_locked", "quantity_below_won", "campaign_ended",
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
    api_route("/api/v1/me/draws", my_draws, "GET", ApiDoc(
        "The signed-in member's draws, newest first", TAG, auth="member", response=DrawPage,
        query={"limit": "page size, at most 200", "cursor": "next_cursor of the last page"})),
]
