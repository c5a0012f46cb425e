from __future__ import annotations

from datetime import timedelta

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_member, require_merchant
from engagement.kit.errors import NotFound
from engagement.kit.http import ApiDoc, api_route, json_response, parse_body
from engagement.kit.state import services
from engagement.members import queries, service, share_codes
from engagement.members.schemas import (
    MemberCreate,
    MemberOut,
    MemberUpdate,
    MyProfileUpdate,
    TokenOut,
)

TAG = "Members"


async def create_member(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, MemberCreate)
    svc = services(request)
    async with svc.unit() as unit:
        referrer_id = None
        # A share code binds only a member created now; an existing one is returned as is.
        if data.share_code is not None and await queries.member_by_external_id(
                unit.conn, merchant.id, data.external_id) is None:
            referrer_id = await resolve_share_code(request, unit.conn, merchant.id, data)
        member, created = await service.create_or_get_member(
            unit.conn, merchant.id, data, referrer_id=referrer_id
        )
        if created and referrer_id is not None:
            await bind_share_code(request, unit.conn, merchant.id, member.id, data)
    return json_response(member, status=201 if created else 200)


async def resolve_share_code(request: Request, conn: asyncpg.Connection, merchant_id: str,
                             data: MemberCreate) -> str | None:
    """Share codes belong to the referral domain (engagement/members/share_codes.py)."""
    port = share_codes.installed()
    if port is None:
        raise service.UnknownShareCode(share_code=data.share_code)
    return await port.referrer(conn, merchant_id, data)


async def bind_share_code(request: Request, conn: asyncpg.Connection, merchant_id: str,
                          member_id: str,
                          data: MemberCreate) -> None:
    """Once the member exists: the referral domain records the binding and gives the share
    link's coupon."""
    port = share_codes.installed()
    if port is not None and data.share_code:
        await port.bind_created(conn, merchant_id, member_id, data.share_code,
                                services(request).clock.now())


async def get_member(request: Request) -> Response:
    merchant = await require_merchant(request)
    row = await queries.member_by_id(services(request).pool, merchant.id,
                                     request.path_params["member_id"])
    if row is None:
        raise NotFound("No such member.")
    return json_response(service.member_out(row))


async def update_member(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, MemberUpdate)
    async with services(request).unit() as unit:
        member = await service.update_member(unit.conn, merchant.id,
                                             request.path_params["member_id"], data)
    return json_response(member)


async def create_token(request: Request) -> Response:
    merchant = await require_merchant(request)
    svc = services(request)
    async with svc.unit() as unit:
        row = await queries.member_by_id(unit.conn, merchant.id, request.path_params["member_id"])
        if row is None:
            raise NotFound("No such member.")
        token = await service.issue_token(
            unit.conn, merchant_id=merchant.id, member_id=row["id"], now=svc.clock.now(),
            ttl=timedelta(hours=svc.settings.member_token_ttl_hours),
            public_url=svc.settings.public_url,
        )
    return json_response(token, status=201)


async def me(request: Request) -> Response:
    principal = await require_member(request)
    row = await queries.member_by_id(services(request).pool, principal.merchant.id,
                                     principal.member_id)
    if row is None:
        raise NotFound("No such member.")
    return json_response(service.member_out(row))


async def update_me(request: Request) -> Response:
    principal = await require_member(request)
    data = await parse_body(request, MyProfileUpdate)
    async with services(request).unit() as unit:
        member = await service.update_my_profile(unit.conn, principal.merchant.id,
                                                 principal.member_id, data)
    return json_response(member)


routes = [
    api_route("/api/v1/members", create_member, "POST", ApiDoc(
        "Create a member (201), or return the existing one with this external_id (200)", TAG,
        auth="merchant", body=MemberCreate, response=MemberOut, status=201, also=(200,),
        errors=("phone_taken", "unknown_share_code", "validation_error"))),
    api_route("/api/v1/members/{member_id}", get_member, "GET", ApiDoc(
        "Get a member", TAG, auth="merchant", response=MemberOut, errors=("not_found",))),
    api_route("/api/v1/members/{member_id}", update_member, "PATCH", ApiDoc(
        "Change a member's phone, name or birthday: only the fields sent change, null clears "
        "one. The merchant may change a birthday the member set", TAG, auth="merchant",
        body=MemberUpdate, response=MemberOut,
        errors=("not_found", "phone_taken", "validation_error"))),
    api_route("/api/v1/members/{member_id}/tokens", create_token, "POST", ApiDoc(
        "Issue a member token and an entry_url that signs the member in on a phone", TAG,
        auth="merchant", response=TokenOut, status=201, errors=("not_found",))),
    api_route("/api/v1/me", me, "GET", ApiDoc(
        "The signed-in member", TAG, auth="member", response=MemberOut)),
    api_route("/api/v1/me", update_me, "PATCH", ApiDoc(
        "The signed-in member changes their name, and gives their birthday once: while "
        "none is on file. Another birthday after that is 409 birthday_locked (the merchant "
        "changes it)", TAG, auth="member", body=MyProfileUpdate, response=MemberOut,
        errors=("birthday_locked", "validation_error"))),
]
