"""Paid membership's API: the plans (set by the merchant, read by the till too), purchases
and a member's membership (merchant or till), and one's own (member)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_member, require_merchant
from engagement.console.callers import require_till
from engagement.kit.http import (
    ApiDoc,
    api_route,
    idempotency_key,
    json_response,
    parse_body,
    request_hash,
)
from engagement.kit.state import services
from engagement.loyalty.membership import service
from engagement.loyalty.membership.schemas import (
    MemberMembershipOut,
    MembershipPlansIn,
    MembershipPlansOut,
    MembershipPurchaseIn,
    MembershipPurchaseOut,
)
from engagement.points import service as points

TAG = "Paid membership"


async def put_plans(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, MembershipPlansIn)
    svc = services(request)
    async with svc.unit() as unit:
        out = await service.set_plans(unit.conn, merchant.id, data, svc.clock.now())
    return json_response(out)


async def get_plans(request: Request) -> Response:
    caller = await require_till(request)
    return json_response(await service.get_plans(services(request).pool, caller.merchant.id))


async def purchase(request: Request) -> Response:
    caller = await require_till(request)
    data = await parse_body(request, MembershipPurchaseIn)
    key = idempotency_key(request)
    member_id = request.path_params["member_id"]
    svc = services(request)
    now = svc.clock.now()
    staff_id = caller.staff.id if caller.staff else None
    async with svc.unit() as unit:
        status, body = await points.respond_once(
            unit.conn, caller.merchant.id, "membership.purchase", key,
            request_hash(request.url.path, data.model_dump()), now,
            lambda: service.purchase(unit.conn, caller.merchant.id, member_id, data, now,
                                     time_zone=caller.merchant.time_zone,
                                     staff_id=staff_id))
    return json_response(body, status=status)


async def member_membership(request: Request) -> Response:
    caller = await require_till(request)
    svc = services(request)
    return json_response(await service.get_member_membership(
        svc.pool, caller.merchant.id, request.path_params["member_id"], svc.clock.now()))


async def my_membership(request: Request) -> Response:
    principal = await require_member(request)
    svc = services(request)
    return json_response(await service.get_member_membership(
        svc.pool, principal.merchant.id, principal.member_id, svc.clock.now()))


routes = [
    api_route("/api/v1/membership-plans", put_plans, "PUT", ApiDoc(
        "Replace the paid membership plans (付费会员卡). Plans left out are archived: running "
        "memberships keep their terms; a plan given again unchanged keeps its id", TAG,
        auth="merchant", body=MembershipPlansIn, response=MembershipPlansOut,
        errors=("unknown_coupon_template", "validation_error"))),
    api_route("/api/v1/membership-plans", get_plans, "GET", ApiDoc(
        "The current paid membership plans", TAG, auth="merchant_or_till",
        response=MembershipPlansOut)),
    api_route("/api/v1/members/{member_id}/memberships", purchase, "POST", ApiDoc(
        "Buy a paid membership for a member, in cash or from the balance; bought again before "
        "its end, it is extended from that end (a renewal)", TAG, auth="merchant_or_till",
        body=MembershipPurchaseIn, response=MembershipPurchaseOut, status=201,
        idempotent=True,
        errors=("not_found", "unknown_membership_plan", "insufficient_balance",
                "validation_error", "idempotency_key_reused"))),
    api_route("/api/v1/members/{member_id}/membership", member_membership, "GET", ApiDoc(
        "A member's paid membership, running or ended (null: never had one)", TAG,
        auth="merchant_or_till", response=MemberMembershipOut, errors=("not_found",))),
    api_route("/api/v1/me/membership", my_membership, "GET", ApiDoc(
        "The signed-in member's paid membership", TAG, auth="member",
        response=MemberMembershipOut)),
]
