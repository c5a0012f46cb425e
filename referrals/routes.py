from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_member, require_merchant
from engagement.kit.errors import NotFound
from engagement.kit.http import ApiDoc, Handler, api_route, json_response, parse_body, parse_query
from engagement.kit.pagination import PageQuery, next_cursor
from engagement.kit.state import services
from engagement.members import queries as member_queries
from referrals import binding, queries, service
from referrals.ledger import queries as ledger_queries
from referrals.ledger import service as ledger
from referrals.schemas import (
    BindingOut,
    BindingPage,
    BindingQuery,
    CommissionPage,
    ProgramIn,
    ProgramOut,
    ReferralsOut,
    ShareLinkIn,
    ShareLinkOut,
)

TAG = "Referrals and commissions"


async def put_program(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, ProgramIn)
    svc = services(request)
    async with svc.unit() as unit:
        program = await service.put_program(unit.conn, merchant.id, data, svc.clock.now())
    return json_response(program)


async def get_program(request: Request) -> Response:
    merchant = await require_merchant(request)
    return json_response(await service.get_program(services(request).pool, merchant.id))


async def create_share_link(request: Request) -> Response:
    principal = await require_member(request)
    data = await parse_body(request, ShareLinkIn)
    svc = services(request)
    async with svc.unit() as unit:
        link, created = await service.share_link(
            unit.conn, principal.merchant.id, principal.member_id, data.coupon_template_id,
            svc.clock.now(), svc.settings.public_url)
    return json_response(link, status=201 if created else 200)


async def my_referrals(request: Request) -> Response:
    principal = await require_member(request)
    svc = services(request)
    async with svc.unit() as unit:  # read-only: one snapshot for link, invitees, balances
        out = await service.my_referrals(unit.conn, principal.merchant.id, principal.member_id,
                                         svc.clock.now(), svc.settings.public_url)
    return json_response(out)


async def member_commissions(request: Request) -> Response:
    merchant = await require_merchant(request)
    page = parse_query(request, PageQuery)
    pool = services(request).pool
    member = await member_queries.member_by_id(pool, merchant.id,
                                               request.path_params["member_id"])
    if member is None:
        raise NotFound("No such member.")
    rows = await ledger_queries.entries_of_member(pool, member["id"], page.cursor, page.limit)
    return json_response(CommissionPage(
        items=[service.commission_out(r) for r in rows],
        next_cursor=next_cursor([r["id"] for r in rows], page.limit),
        balance=await ledger.balance(pool, member["id"])))


async def list_bindings(request: Request) -> Response:
    merchant = await require_merchant(request)
    query = parse_query(request, BindingQuery)
    rows = await queries.bindings(services(request).pool, merchant.id, query.status,
                                  query.cursor, query.limit)
    return json_response(BindingPage(
        items=[BindingOut(**dict(r)) for r in rows],
        next_cursor=next_cursor([r["member_id"] for r in rows], query.limit)))


def _review(approve: bool) -> Handler:
    async def handler(request: Request) -> Response:
        merchant = await require_merchant(request)
        svc = services(request)
        member_id = request.path_params["member_id"]
        async with svc.unit() as unit:
            await binding.review(unit.conn, merchant.id, member_id, approve, svc.clock.now())
            row = await queries.binding(unit.conn, merchant.id, member_id)
        assert row is not None
        return json_response(BindingOut(**dict(row)))

    handler.__name__ = "approve_binding" if approve else "reject_binding"
    return handler


routes = [
    api_route("/api/v1/referral-program", put_program, "PUT", ApiDoc(
        "Set the referral program: levels (rate_bp of the paid amount), trigger, hold_days, "
        "the share coupon and abuse limits", TAG, auth="merchant", body=ProgramIn,
        response=ProgramOut, errors=("validation_error",))),
    api_route("/api/v1/referral-program", get_program, "GET", ApiDoc(
        "The referral program", TAG, auth="merchant", response=ProgramOut,
        errors=("not_found",))),
    api_route("/api/v1/me/share-links", create_share_link, "POST", ApiDoc(
        "The signed-in member's share link for a coupon (201 new, 200 existing)", TAG,
        auth="member", body=ShareLinkIn, response=ShareLinkOut, status=201,
        errors=("referral_program_disabled", "template_not_shareable"))),
    api_route("/api/v1/me/referrals", my_referrals, "GET", ApiDoc(
        "The signed-in member's link, invitees (masked) and commission balances", TAG,
        auth="member", response=ReferralsOut)),
    api_route("/api/v1/members/{member_id}/commissions", member_commissions, "GET", ApiDoc(
        "A member's commission ledger entries, newest first, with balances", TAG,
        auth="merchant", response=CommissionPage, errors=("not_found",),
        query={"limit": "page size, at most 200", "cursor": "next_cursor of the last page"})),
    api_route("/api/v1/referral-bindings", list_bindings, "GET", ApiDoc(
        "Bindings by status (held ones await review)", TAG, auth="merchant",
        response=BindingPage,
        query={"status": "held (default), active or rejected", "limit": "at most 200",
               "cursor": "next_cursor of the last page"})),
    api_route("/api/v1/referral-bindings/{member_id}/approve", _review(True), "POST", ApiDoc(
        "Approve a held binding: its commissions flow", TAG, auth="merchant",
        response=BindingOut, errors=("not_found", "binding_not_held"))),
    api_route("/api/v1/referral-bindings/{member_id}/reject", _review(False), "POST", ApiDoc(
        "Reject a held binding: its commissions never count", TAG, auth="merchant",
        response=BindingOut, errors=("not_found", "binding_not_held"))),
]
