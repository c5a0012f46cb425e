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
    request_hash,
)
from engagement.kit.state import services
from engagement.loyalty.checkin import service
from engagement.loyalty.checkin.schemas import CheckInOut, ProgramIn, ProgramOut, StatusOut
from engagement.points import service as points

TAG = "Loyalty"


async def put_program(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, ProgramIn)
    svc = services(request)
    async with svc.unit() as unit:
        program = await service.set_program(unit.conn, merchant.id, data, svc.clock.now())
    return json_response(program)


async def get_program(request: Request) -> Response:
    merchant = await require_merchant(request)
    return json_response(await service.get_program(services(request).pool, merchant.id))


async def check_in(request: Request) -> Response:
    principal = await require_member(request)
    key = idempotency_key(request)
    merchant, member_id = principal.merchant, principal.member_id
    svc = services(request)
    now = svc.clock.now()
    async with svc.unit() as unit:
        status, body = await points.respond_once(
            unit.conn, merchant.id, f"check_in:{member_id}", key,
            request_hash(request.url.path, None), now,
            lambda: service.check_in(unit.conn, merchant.id, member_id, merchant.time_zone,
                                     now))
    return json_response(body, status=status)


async def my_status(request: Request) -> Response:
    principal = await require_member(request)
    svc = services(request)
    return json_response(await service.status(
        svc.pool, principal.merchant.id, principal.member_id, principal.merchant.time_zone,
        svc.clock.now()))


routes = [
    api_route("/api/v1/check-in-program", put_program, "PUT", ApiDoc(
        "Replace the daily check-in program (签到): on or off, and the reward of each streak "
        "day 1..N (points, extra draws). After day N the cycle starts again at day 1 while "
        "the streak keeps counting", TAG, auth="merchant", body=ProgramIn,
        response=ProgramOut, errors=("validation_error",))),
    api_route("/api/v1/check-in-program", get_program, "GET", ApiDoc(
        "The daily check-in program; off with no rewards when never set", TAG,
        auth="merchant", response=ProgramOut)),
    api_route("/api/v1/me/check-ins", check_in, "POST", ApiDoc(
        "Check in for today (the merchant's day): once a day; a missed day starts the streak "
        "again at 1. Credits the streak day's points and gives its extra draws", TAG,
        auth="member", response=CheckInOut, status=201, idempotent=True,
        errors=("already_checked_in", "check_in_disabled", "idempotency_key_reused"))),
    api_route("/api/v1/me/check-ins", my_status, "GET", ApiDoc(
        "The signed-in member's check-in: the streak, whether today is done, today's and "
        "the next reward, the strip of the cycle's days and the latest check-ins", TAG,
        auth="member", response=StatusOut)),
]
