from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_member, require_merchant
from engagement.coupons import queries, service
from engagement.coupons.schemas import (
    CouponOut,
    CouponPage,
    RedeemIn,
    RedeemOut,
    TemplateCreate,
    TemplateOut,
)
from engagement.kit.http import ApiDoc, api_route, json_response, parse_body, parse_query
from engagement.kit.pagination import PageQuery, next_cursor
from engagement.kit.state import services

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


routes = [
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
