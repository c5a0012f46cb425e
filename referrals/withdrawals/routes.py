"""The withdrawal API: members ask (POST /api/v1/me/withdrawals), merchants list, pay or
reject (GET /api/v1/withdrawals, POST /api/v1/withdrawals/{id}/pay and /reject)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_member, require_merchant
from engagement.kit.http import (
    ApiDoc,
    api_route,
    idempotency_key,
    json_response,
    parse_body,
    parse_query,
    read_json,
    request_hash,
)
from engagement.kit.pagination import next_cursor
from engagement.kit.state import services
from engagement.points import service as points
from referrals.withdrawals import queries, service
from referrals.withdrawals.schemas import (
    PayIn,
    RejectIn,
    WithdrawalCreated,
    WithdrawalIn,
    WithdrawalOut,
    WithdrawalPage,
    WithdrawalQuery,
)

TAG = "Referrals and commissions"


def scope(member_id: str) -> str:
    """Idempotency keys belong to the member who sent them: two members may pick the same."""
    return f"referrals.withdraw:{member_id}"


async def request_withdrawal(request: Request) -> Response:
    principal = await require_member(request)
    key = idempotency_key(request)
    raw = await read_json(request)
    data = await parse_body(request, WithdrawalIn)
    merchant_id, member_id = principal.merchant.id, principal.member_id
    svc = services(request)
    now = svc.clock.now()
    async with svc.unit() as unit:
        status, body = await points.respond_once(
            unit.conn, merchant_id, scope(member_id), key, request_hash(request.url.path, raw),
            now, lambda: service.request(unit.conn, merchant_id, member_id, data.amount, now))
    return json_response(body, status=status)


async def list_withdrawals(request: Request) -> Response:
    merchant = await require_merchant(request)
    query = parse_query(request, WithdrawalQuery)
    rows = await queries.of_merchant(services(request).pool, merchant.id, query.status,
                                     query.cursor, query.limit)
    return json_response(WithdrawalPage(
        items=[service.withdrawal_out(r) for r in rows],
        next_cursor=next_cursor([r["id"] for r in rows], query.limit)))


async def pay_withdrawal(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, PayIn)
    svc = services(request)
    async with svc.unit() as unit:
        out = await service.pay(unit.conn, merchant.id, request.path_params["withdrawal_id"],
                                data, svc.clock.now())
    return json_response(out)


async def reject_withdrawal(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, RejectIn)
    svc = services(request)
    async with svc.unit() as unit:
        out = await service.reject(unit.conn, merchant.id,
                                   request.path_params["withdrawal_id"], data.reason,
                                   svc.clock.now())
    return json_response(out)


routes = [
    api_route("/api/v1/me/withdrawals", request_withdrawal, "POST", ApiDoc(
        "Withdraw available commission (提现): the amount leaves available at once and "
        "waits for the merchant to pay it", TAG, auth="member", body=WithdrawalIn,
        response=WithdrawalCreated, status=201, idempotent=True,
        errors=("validation_error", "below_min_withdrawal", "insufficient_commission",
                "idempotency_key_reused"))),
    api_route("/api/v1/withdrawals", list_withdrawals, "GET", ApiDoc(
        "Members' withdrawals, newest first", TAG, auth="merchant", response=WithdrawalPage,
        query={"status": "requested, paid or rejected (all when left out)",
               "limit": "at most 200", "cursor": "next_cursor of the last page"})),
    api_route("/api/v1/withdrawals/{withdrawal_id}/pay", pay_withdrawal, "POST", ApiDoc(
        "Record that a requested withdrawal was paid, how, and its receipt number", TAG,
        auth="merchant", body=PayIn, response=WithdrawalOut,
        errors=("not_found", "validation_error", "withdrawal_already_paid",
                "withdrawal_already_rejected"))),
    api_route("/api/v1/withdrawals/{withdrawal_id}/reject", reject_withdrawal, "POST", ApiDoc(
        "Reject a requested withdrawal: its amount is available again", TAG,
        auth="merchant", body=RejectIn, response=WithdrawalOut,
        errors=("not_found", "validation_error", "withdrawal_already_paid",
                "withdrawal_already_rejected"))),
]
