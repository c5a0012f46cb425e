from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_merchant
from engagement.kit.http import ApiDoc, api_route, json_response, parse_body
from engagement.kit.state import services
from engagement.loyalty.tiers import service
from engagement.loyalty.tiers.schemas import TiersIn, TiersOut

TAG = "Loyalty"


async def put_tiers(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, TiersIn)
    async with services(request).unit() as unit:
        tiers = await service.set_tiers(unit.conn, merchant.id, data)
    return json_response(tiers)


async def get_tiers(request: Request) -> Response:
    merchant = await require_merchant(request)
    return json_response(await service.get_tiers(services(request).pool, merchant.id))


routes = [
    api_route("/api/v1/tiers", put_tiers, "PUT", ApiDoc(
        "Replace the tiers, lowest first: a threshold on points earned or on spend over a "
        "window, and an optional monthly coupon. Members move at the daily evaluation",
        TAG, auth="merchant", body=TiersIn, response=TiersOut,
        errors=("unknown_coupon_template", "validation_error"))),
    api_route("/api/v1/tiers", get_tiers, "GET", ApiDoc(
        "The merchant's tiers, lowest first", TAG, auth="merchant", response=TiersOut)),
]
