from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_merchant
from engagement.kit.http import ApiDoc, api_route, json_response, parse_body
from engagement.kit.state import services
from engagement.loyalty.sends import service
from engagement.loyalty.sends.schemas import (
    AudienceIn,
    AudienceOut,
    BirthdayAutomationIn,
    BirthdayAutomationOut,
    SendCreate,
    SendOut,
    SendQueued,
)

TAG = "Loyalty"


async def create_send(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, SendCreate)
    svc = services(request)
    async with svc.unit() as unit:
        queued = await service.create_send(unit, merchant.id, data, svc.clock.now())
    return json_response(queued, status=202)


async def count_audience(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, AudienceIn)
    svc = services(request)
    return json_response(await service.audience(svc.pool, merchant.id, merchant.time_zone,
                                                data.segment, svc.clock.now()))


async def get_send(request: Request) -> Response:
    merchant = await require_merchant(request)
    return json_response(await service.get_send(services(request).pool, merchant.id,
                                                request.path_params["send_id"]))


async def put_birthday_automation(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, BirthdayAutomationIn)
    svc = services(request)
    async with svc.unit() as unit:
        out = await service.set_birthday_automation(unit.conn, merchant.id, data,
                                                     svc.clock.now())
    return json_response(out)


async def get_birthday_automation(request: Request) -> Response:
    merchant = await require_merchant(request)
    return json_response(await service.get_birthday_automation(services(request).pool,
                                                               merchant.id))


routes = [
    api_route("/api/v1/sends", create_send, "POST", ApiDoc(
        "Send a coupon to a segment of members, holding out a random group to measure the "
        "lift (202: a job issues the coupons). repeat=daily runs it every day (birthdays); "
        "scheduled_at sends it once at that time (status scheduled until then)",
        TAG, auth="merchant", body=SendCreate, response=SendQueued, status=202,
        errors=("unknown_coupon_template", "validation_error"))),
    api_route("/api/v1/sends/audience", count_audience, "POST", ApiDoc(
        "How many members a segment matches now (read-only: a send's audience before it is "
        "made; a send targets them, its holdout included)", TAG, auth="merchant",
        body=AudienceIn, response=AudienceOut, errors=("validation_error",))),
    api_route("/api/v1/sends/{send_id}", get_send, "GET", ApiDoc(
        "A send's result: targeted, treated, held out, issued, redeemed, and the repurchase "
        "rate of the treated group against the holdout (the lift)", TAG, auth="merchant",
        response=SendOut, errors=("not_found",))),
    api_route("/api/v1/birthday-automation", put_birthday_automation, "PUT", ApiDoc(
        "Birthday coupons (生日礼): on or off, the coupon, and how many days before the "
        "birthday (0-30) it is sent, from 08:00 in the merchant's time zone, once per member "
        "and birthday. A daily send runs it (send_id)", TAG, auth="merchant",
        body=BirthdayAutomationIn, response=BirthdayAutomationOut,
        errors=("unknown_coupon_template", "validation_error"))),
    api_route("/api/v1/birthday-automation", get_birthday_automation, "GET", ApiDoc(
        "The birthday coupons' setting (off, with no coupon, until first set)", TAG,
        auth="merchant", response=BirthdayAutomationOut)),
]
