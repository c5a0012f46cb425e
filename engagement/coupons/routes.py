from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_member, require_merchant
from engagement.coupons import queries, service
from engagement.coupons.schemas import (
    CouponOut,
    CouponPage,
    GiveCoupon,
    RedeemIn,
    RedeemOut,
    TemplateCreate,
    TemplateOut,
)
from engagement.kit.http import (
    ApiDoc,
    api_route,
    idempotency_key,
    json_response,
    parse_body,
    parse_query,
    request_hash,
)
from engagement.kit.pagination import PageQuery, next_cursor
from engagement.kit.state import services
from engagement.points import service as points

TAG = "Coupons"


async def create_template(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, TemplateCreate)
    async with services(request).unit() as unit:
        template = await service.create_template(unit.conn, merchant.id, data)
    return json_response(template, status=201)


async def get_template(request: Request) -> Response:
    merchant = await require_merchant(request)
    template = await service.get_template(services(request).pool, merchant.id,
                                          request.path_params["template_id"])
    return json_response(template)


async def redeem(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, RedeemIn)
    svc = services(request)
    async with svc.unit() as unit:
        result = await service.redeem(unit.conn, merchant.id, request.path_params["code"],
                                      svc.clock.now(), data.order_id)
    return json_response(result)


async def my_coupons(request: Request) -> Response:
    principal = await require_member(request)
    page = parse_query(request, PageQuery)
    rows = await queries.coupons_of_member(services(request).pool, principal.member_id,
                                           page.cursor, page.limit)
    return json_response(CouponPage(items=[CouponOut(**dict(r)) for r in rows],
                                    next_cursor=next_cursor([r["id"] for r in rows], page.limit)))


async def give_coupon(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, GiveCoupon)
    key = idempotency_key(request)
    svc = services(request)
    now = svc.clock.now()
    async with svc.unit() as unit:
        status, body = await points.respond_once(
            unit.conn, merchant.id, "coupons.give", key,
            request_hash(request.url.path, data.model_dump()), now,
            lambda: service.give_by_hand(unit.conn, merchant.id,
                                         request.path_params["member_id"],
                                         data.coupon_template_id, now))
    return json_response(body, status=status)


routes = [
    api_route("/api/v1/members/{member_id}/coupons", give_coupon, "POST", ApiDoc(
        "Give a member a coupon by hand (手动发券), out of the template's stock and within "
        "its per-member limit", TAG, auth="merchant", body=GiveCoupon, response=CouponOut,
        status=201, idempotent=True,
        errors=("not_found", "unknown_coupon_template", "out_of_stock",
                "coupon_limit_reached", "idempotency_key_reused", "validation_error"))),
    api_route("/api/v1/coupon-templates", create_template, "POST", ApiDoc(
        "Create a coupon template (inventory with counters)", TAG, auth="merchant",
        body=TemplateCreate, response=TemplateOut, status=201, errors=("validation_error",))),
    api_route("/api/v1/coupon-templates/{template_id}", get_template, "GET", ApiDoc(
        "Get a coupon template with stock, reserved, issued, redeemed, available", TAG,
        auth="merchant", response=TemplateOut, errors=("not_found",))),
    api_route("/api/v1/coupons/{code}/redeem", redeem, "POST", ApiDoc(
        "Redeem a coupon at the till", TAG, auth="merchant", body=RedeemIn, response=RedeemOut,
        errors=("not_found", "coupon_already_redeemed", "coupon_expired", "coupon_void",
                "coupon_not_yet_valid"))),
    api_route("/api/v1/me/coupons", my_coupons, "GET", ApiDoc(
        "The signed-in member's coupons, newest first", TAG, auth="member", response=CouponPage,
        query={"limit": "page size, at most 200", "cursor": "next_cursor of the last page"})),
]
