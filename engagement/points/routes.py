from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_member, require_merchant
from engagement.kit.errors import NotFound
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
from engagement.members import queries as member_queries
from engagement.points import service
from engagement.points.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    PointsPage,
    ProgramIn,
    ProgramOut,
)

TAG = "Loyalty"
PAGE_QUERY = {"limit": "page size, at most 200", "cursor": "next_cursor of the last page"}


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


async def member_points(request: Request) -> Response:
    merchant = await require_merchant(request)
    page = parse_query(request, PageQuery)
    pool = services(request).pool
    member_id = request.path_params["member_id"]
    if await member_queries.member_by_id(pool, merchant.id, member_id) is None:
        raise NotFound("No such member.")
    return json_response(await service.points_page(pool, member_id, page.cursor, page.limit))


async def my_points(request: Request) -> Response:
    principal = await require_member(request)
    page = parse_query(request, PageQuery)
    return json_response(await service.points_page(services(request).pool,
                                                   principal.member_id, page.cursor,
                                                   page.limit))


async def adjust_points(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, AdjustmentIn)
    key = idempotency_key(request)
    member_id = request.path_params["member_id"]
    svc = services(request)
    now = svc.clock.now()
    async with svc.unit() as unit:
        status, body = await service.respond_once(
            unit.conn, merchant.id, "points.adjust", key,
            request_hash(request.url.path, data.model_dump()), now,
            lambda: service.adjust(unit.conn, merchant.id, member_id, data, now, key=key))
    return json_response(body, status=status)


routes = [
    api_route("/api/v1/points-program", put_program, "PUT", ApiDoc(
        "Set the points program: points per amount paid, a join bonus, days until points "
        "expire (none: never)", TAG, auth="merchant", body=ProgramIn, response=ProgramOut,
        errors=("validation_error",))),
    api_route("/api/v1/points-program", get_program, "GET", ApiDoc(
        "The merchant's points program", TAG, auth="merchant", response=ProgramOut,
        errors=("not_found",))),
    api_route("/api/v1/members/{member_id}/points", member_points, "GET", ApiDoc(
        "A member's points balance and ledger, newest first", TAG, auth="merchant",
        response=PointsPage, errors=("not_found",), query=PAGE_QUERY)),
    api_route("/api/v1/members/{member_id}/points", adjust_points, "POST", ApiDoc(
        "Adjust a member's points by hand; a balance never goes below zero", TAG,
        auth="merchant", body=AdjustmentIn, response=AdjustmentOut, status=201,
        idempotent=True, errors=("not_found", "insufficient_points", "idempotency_key_reused",
                                 "adjustment_conflict", "validation_error"))),
    api_route("/api/v1/me/points", my_points, "GET", ApiDoc(
        "The signed-in member's points balance and ledger, newest first", TAG, auth="member",
        response=PointsPage, query=PAGE_QUERY)),
]
