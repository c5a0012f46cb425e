"""Stored value's API: the top-up plans, top-ups (merchant or till), balances, the member's
payment PIN and 退卡."""

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
    parse_query,
    request_hash,
)
from engagement.kit.pagination import PageQuery
from engagement.kit.state import services
from engagement.loyalty.wallet import payments, pins, service
from engagement.loyalty.wallet.schemas import (
    BalanceOut,
    BalancePinIn,
    BalancePinOut,
    CardRefundOut,
    TopUpIn,
    TopUpOut,
    TopUpPlansIn,
    TopUpPlansOut,
)
from engagement.points import service as points

TAG = "Stored value"


async def put_plans(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, TopUpPlansIn)
    svc = services(request)
    async with svc.unit() as unit:
        out = await service.set_program(unit.conn, merchant.id, data, svc.clock.now())
    return json_response(out)


async def get_plans(request: Request) -> Response:
    caller = await require_till(request)  # the till shows the plans beside a top-up
    return json_response(await service.get_program(services(request).pool, caller.merchant.id))


async def top_up(request: Request) -> Response:
    caller = await require_till(request)
    data = await parse_body(request, TopUpIn)
    key = idempotency_key(request)
    member_id = request.path_params["member_id"]
    svc = services(request)
    now = svc.clock.now()
    staff_id = caller.staff.id if caller.staff else None
    async with svc.unit() as unit:
        status, body = await points.respond_once(
            unit.conn, caller.merchant.id, "wallet.top_up", key,
            request_hash(request.url.path, data.model_dump()), now,
            lambda: service.top_up(unit.conn, caller.merchant.id, member_id, data, now,
                                   staff_id=staff_id))
    return json_response(body, status=status)


async def member_balance(request: Request) -> Response:
    caller = await require_till(request)  # the till shows the balance of the member found
    page = parse_query(request, PageQuery)
    svc = services(request)
    return json_response(await service.balance(
        svc.pool, caller.merchant.id, request.path_params["member_id"], page.cursor,
        page.limit, svc.clock.now()))


async def my_balance(request: Request) -> Response:
    principal = await require_member(request)
    page = parse_query(request, PageQuery)
    svc = services(request)
    return json_response(await service.balance(
        svc.pool, principal.merchant.id, principal.member_id, page.cursor, page.limit,
        svc.clock.now()))


async def put_pin(request: Request) -> Response:
    principal = await require_member(request)
    data = await parse_body(request, BalancePinIn)
    svc = services(request)
    await pins.set_pin(svc.pool, principal.merchant.id, principal.member_id, data.pin,
                       data.old_pin, svc.clock.now())
    return json_response(BalancePinOut(pin_set=True))


async def card_refund(request: Request) -> Response:
    merchant = await require_merchant(request)
    svc = services(request)
    async with svc.unit() as unit:
        out = await payments.card_refund(unit.conn, merchant.id,
                                         request.path_params["member_id"], svc.clock.now())
    return json_response(out, status=201)


_PAGE = {"limit": "page size, at most 200", "cursor": "next_cursor of the last page"}
routes = [
    api_route("/api/v1/top-up-plans", put_plans, "PUT", ApiDoc(
        "Set the top-up plans (充值送) and which part of a balance is spent first", TAG,
        auth="merchant", body=TopUpPlansIn, response=TopUpPlansOut, errors=("validation_error",))),
    api_route("/api/v1/top-up-plans", get_plans, "GET", ApiDoc(
        "The top-up plans", TAG, auth="merchant_or_till", response=TopUpPlansOut)),
    api_route("/api/v1/members/{member_id}/top-ups", top_up, "POST", ApiDoc(
        "Top up a member's balance: the amount paid, plus the best plan's bonus", TAG,
        auth="merchant_or_till", body=TopUpIn, response=TopUpOut, status=201, idempotent=True,
        errors=("not_found", "unknown_store", "validation_error", "idempotency_key_reused"))),
    api_route("/api/v1/members/{member_id}/balance", member_balance, "GET", ApiDoc(
        "A member's balance and its ledger, newest first", TAG, auth="merchant_or_till",
        response=BalanceOut, errors=("not_found",), query=_PAGE)),
    api_route("/api/v1/me/balance", my_balance, "GET", ApiDoc(
        "The signed-in member's balance and its ledger", TAG, auth="member",
        response=BalanceOut, query=_PAGE)),
    api_route("/api/v1/me/balance-pin", put_pin, "PUT", ApiDoc(
        "Set the payment PIN (6 digits) for paying from the balance; changing it needs the "
        "old one. Five wrong PINs lock balance payments for 15 minutes", TAG, auth="member",
        body=BalancePinIn, response=BalancePinOut,
        errors=("bad_pin", "pin_locked", "validation_error"))),
    api_route("/api/v1/members/{member_id}/balance/refund", card_refund, "POST", ApiDoc(
        "退卡: pay back the member's unspent principal and forfeit the unspent bonus; the "
        "balance is 0 afterwards (in the console, owners only)", TAG, auth="merchant",
        response=CardRefundOut, status=201, errors=("not_found",))),
]
