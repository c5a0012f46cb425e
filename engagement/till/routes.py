"""The till's lookups over the API: a POS with the merchant's key, or the till page with
its signed-in staff session (engagement/console/callers.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.console.callers import require_till
from engagement.kit.http import ApiDoc, api_route, json_response, parse_query
from engagement.kit.state import services
from engagement.till import service
from engagement.till.schemas import LookupOut, LookupQuery, ReceiptOut, TillCard

TAG = "Till"

COUPON_REFUSALS = ("coupon_not_owned", "coupon_already_redeemed", "coupon_expired",
                   "coupon_void", "coupon_not_yet_valid")


async def lookup(request: Request) -> Response:
    caller = await require_till(request)
    query = parse_query(request, LookupQuery)
    svc = services(request)
    async with svc.unit() as unit:
        found = await service.lookup(unit.conn, svc.redis, caller.merchant.id, query.query,
                                     svc.clock.now(), on_screen=query.member_id)
    return json_response(found)


async def member_code(request: Request) -> Response:
    caller = await require_till(request)
    svc = services(request)
    async with svc.unit() as unit:
        card = await service.member_card(unit.conn, svc.redis, caller.merchant.id,
                                         request.path_params["code"], svc.clock.now())
    return json_response(card)


async def receipt(request: Request) -> Response:
    caller = await require_till(request)
    svc = services(request)
    async with svc.unit() as unit:
        out = await service.receipt(unit.conn, caller.merchant.id,
                                    request.path_params["order_id"])
    return json_response(out)


routes = [
    # Before GET /api/v1/members/{member_id}, which would otherwise take "lookup" for an id.
    api_route("/api/v1/members/lookup", lookup, "GET", ApiDoc(
        "Find the customer at the till: by phone (exact), 手机尾号 (the last 4 digits: "
        "every member they match, up to 10), an 18-digit member code or a coupon code (its "
        "owner, the coupon marked, or why it cannot be used). A phone of no member comes "
        "back as guest_phone, for a guest order", TAG, auth="merchant_or_till",
        response=LookupOut,
        query={"query": "what the cashier typed or scanned (required)",
               "member_id": "the member already on screen: another's coupon is refused"},
        errors=("lookup_query_not_understood", "member_code_not_found",
                "coupon_code_not_found", *COUPON_REFUSALS, "validation_error"))),
    api_route("/api/v1/member-codes/{code}", member_code, "GET", ApiDoc(
        "The member a member code (会员码) stands for, with the coupons usable now; 404 once "
        "the code has expired", TAG, auth="merchant_or_till", response=TillCard,
        errors=("member_code_not_found",))),
    api_route("/api/v1/orders/{order_id}/receipt", receipt, "GET", ApiDoc(
        "An order as the till's receipt shows it: paid, saved, the coupons used and the "
        "points earned, with the member's balance now", TAG, auth="merchant_or_till",
        response=ReceiptOut, errors=("not_found",))),
]
