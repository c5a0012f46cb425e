from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_merchant
from engagement.console.callers import TillCaller, require_till
from engagement.kit.http import ApiDoc, api_route, idempotency_key, json_response, parse_body
from engagement.kit.state import services
from engagement.orders import service
from engagement.orders.schemas import (
    OrderCreate,
    OrderOut,
    QuoteIn,
    QuoteOut,
    RefundCreate,
    RefundOut,
)

TAG = "Orders"

# Paying from the stored-value balance (engagement/orders/balance.py).
BALANCE_ERRORS = ("insufficient_balance", "balance_exceeds_amount", "stored_value_unavailable")
# What an order or a quote can be refused with (each a coupon's or the body's own code).
PRICING_ERRORS = ("unknown_member", "unknown_store", "store_not_yours", "unknown_coupon",
                  "coupon_not_owned", "coupon_min_spend_not_met", "coupon_already_redeemed",
                  "coupon_expired", "coupon_void", "coupon_not_yet_valid",
                  "coupons_not_stackable", "amount_mismatch", "validation_error",
                  *BALANCE_ERRORS)


def _taker(caller: TillCaller) -> service.Taker | None:
    if caller.staff is None:
        return None
    return service.Taker(staff_id=caller.staff.id, store_id=caller.staff.store_id)


async def create_order(request: Request) -> Response:
    caller = await require_till(request)
    data = await parse_body(request, OrderCreate)
    svc = services(request)
    join_url = f"{svc.settings.public_url.rstrip('/')}/j/{caller.merchant.slug}?next=/m"
    await service.authorize_balance(svc.pool, caller.merchant.id, data, svc.clock.now())
    async with svc.unit() as unit:
        order, created = await service.create_order(
            unit.conn, caller.merchant.id, data, svc.clock.now(), taker=_taker(caller),
            join_url=join_url)
    return json_response(order, status=201 if created else 200)


async def quote_order(request: Request) -> Response:
    caller = await require_till(request)
    data = await parse_body(request, QuoteIn)
    svc = services(request)
    async with svc.unit() as unit:  # read only; rolled back or committed, nothing is written
        out = await service.quote(unit.conn, caller.merchant.id, data, svc.clock.now(),
                                  taker=_taker(caller))
    return json_response(out)


async def get_order(request: Request) -> Response:
    merchant = await require_merchant(request)
    order = await service.get_order(services(request).pool, merchant.id,
                                    request.path_params["order_id"])
    return json_response(order)


async def create_refund(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, RefundCreate)
    key = idempotency_key(request)
    svc = services(request)
    async with svc.unit() as unit:
        refund, _ = await service.create_refund(unit.conn, merchant.id,
                                                request.path_params["order_id"], data,
                                                svc.clock.now(), idempotency_key=key)
    # A replay returns the first response, status included (API conventions).
    return json_response(refund, status=201)


routes = [
    # Before /api/v1/orders/{order_id}: "quote" is not an order id.
    api_route("/api/v1/orders/quote", quote_order, "POST", ApiDoc(
        "Price an order without recording it: the subtotal, what each coupon takes off and "
        "the amount to pay, or the error the order would get. Changes nothing", TAG,
        auth="merchant_or_till", body=QuoteIn, response=QuoteOut,
        errors=PRICING_ERRORS)),
    api_route("/api/v1/orders", create_order, "POST", ApiDoc(
        "Record a paid order (201); the same id and body again replays it (200). With "
        "`subtotal` the service prices the coupons; with `phone` instead of `member_id` it "
        "is a guest order. Redeems the listed coupons, awards points and triggers "
        "commissions on the amount paid; `pay_with_balance` with the member's `balance_pin` "
        "takes part of it from their stored value", TAG, auth="merchant_or_till", body=OrderCreate,
        response=OrderOut, status=201, also=(200,),
        errors=("order_conflict", "bad_pin", "pin_not_set", "pin_locked",
                *PRICING_ERRORS))),
    api_route("/api/v1/orders/{order_id}", get_order, "GET", ApiDoc(
        "Get an order with the amount refunded so far", TAG, auth="merchant",
        response=OrderOut, errors=("not_found",))),
    api_route("/api/v1/orders/{order_id}/refunds", create_refund, "POST", ApiDoc(
        "Refund part of an order; refunds add up to at most the amount paid, and reverse "
        "commissions in proportion; the part paid from the balance goes back to it in "
        "proportion (`to_balance`)", TAG, auth="merchant", body=RefundCreate,
        response=RefundOut, status=201, idempotent=True,
        errors=("not_found", "refund_exceeds_paid", "refund_conflict",
                "idempotency_key_reused", "validation_error"))),
]
