from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import bearer, require_member, require_merchant
from engagement.kit.http import (
    ApiDoc,
    api_route,
    idempotency_key,
    json_response,
    parse_body,
    parse_query,
)
from engagement.kit.pagination import next_cursor
from engagement.kit.security import API_KEY_PREFIX
from engagement.kit.state import services
from engagement.loyalty.mall import service
from engagement.loyalty.mall.schemas import (
    RedemptionOut,
    RewardCreate,
    RewardOut,
    RewardPage,
    RewardPatch,
    RewardQuery,
)

TAG = "Loyalty"


async def create_reward(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, RewardCreate)
    svc = services(request)
    async with svc.unit() as unit:
        reward = await service.create_reward(unit.conn, merchant.id, data, svc.clock.now())
    return json_response(reward, status=201)


async def list_rewards(request: Request) -> Response:
    secret = bearer(request)
    page = parse_query(request, RewardQuery)
    if secret is not None and secret.startswith(API_KEY_PREFIX):
        merchant_id = (await require_merchant(request)).id
        include_inactive = page.include_inactive
    else:
        merchant_id = (await require_member(request)).merchant.id
        include_inactive = False  # members see only what is on the shelf
    items = await service.list_rewards(services(request).pool, merchant_id, page.cursor,
                                       page.limit, include_inactive)
    return json_response(RewardPage(items=items, next_cursor=next_cursor(
        [i.id for i in items], page.limit)))


async def patch_reward(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, RewardPatch)
    async with services(request).unit() as unit:
        reward = await service.set_active(unit.conn, merchant.id,
                                          request.path_params["reward_id"], data)
    return json_response(reward)


async def redeem(request: Request) -> Response:
    principal = await require_member(request)
    key = idempotency_key(request)
    svc = services(request)
    async with svc.unit() as unit:
        status, body = await service.redeem_once(
            unit.conn, principal.merchant.id, principal.member_id,
            request.path_params["reward_id"], svc.clock.now(), key=key)
    return json_response(body, status=status)


routes = [
    api_route("/api/v1/rewards", create_reward, "POST", ApiDoc(
        "Put a coupon template in the points mall at a price in points, with its own stock",
        TAG, auth="merchant", body=RewardCreate, response=RewardOut, status=201,
        errors=("unknown_coupon_template", "validation_error"))),
    api_route("/api/v1/rewards", list_rewards, "GET", ApiDoc(
        "The points mall's rewards, newest first", TAG, auth="merchant_or_member",
        response=RewardPage,
        query={"limit": "page size, at most 200", "cursor": "next_cursor of the last page",
               "include_inactive": "merchant only: true lists rewards taken off the shelf"})),
    api_route("/api/v1/rewards/{reward_id}", patch_reward, "PATCH", ApiDoc(
        "Put a reward on the shelf or take it off ({\"active\"}); members neither see nor "
        "redeem one that is off", TAG, auth="merchant", body=RewardPatch, response=RewardOut,
        errors=("not_found", "validation_error"))),
    api_route("/api/v1/rewards/{reward_id}/redemptions", redeem, "POST", ApiDoc(
        "Spend points on a reward: takes the points and issues the coupon exactly once",
        TAG, auth="member", response=RedemptionOut, status=201, idempotent=True,
        errors=("not_found", "insufficient_points", "reward_out_of_stock",
                "insufficient_inventory", "coupon_limit_reached", "idempotency_key_reused",
                "redemption_conflict"))),
]
