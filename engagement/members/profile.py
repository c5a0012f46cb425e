"""我的资料 (/m/profile): the member's name, and their birthday, which they give once.

A plain form post (no script needed) through the same service as ``PATCH /api/v1/me``:
once a birthday is on file the page shows it read-only with a note, and only the merchant
changes it (``PATCH /api/v1/members/{id}``)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.kit import csrf
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.members import queries, service
from engagement.members.schemas import MemberPrincipal, MyProfileUpdate
from engagement.pages import signed_out

PROFILE = "/m/profile"
# Why a save was refused, by field, as the member reads it.
FIELD_ERRORS = {
    "name": N_("名字最多 120 个字，不能含特殊字符。"),
    "birthday": N_("请填写正确的生日（1900 年以后、不晚于今天）。"),
}
LOCKED = N_("生日已登记，不能再修改；如填错了，请联系商家更改。")
EXPIRED = N_("页面已过期，请刷新后重试。")


async def profile_page(request: Request) -> Response:
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    saved = request.query_params.get("saved") == "1"
    return await _render(request, principal, notice=N_("已保存") if saved else None)


async def save_profile(request: Request) -> Response:
    form = await read_form(request)
    principal = await optional_member(request)
    if principal is None:
        return signed_out(request)
    values = {"name": form.get("name", ""), "birthday": form.get("birthday", "")}
    try:
        csrf.verify(request, form.get(csrf.FORM_FIELD))
    except csrf.CsrfFailed:
        return await _render(request, principal, error=EXPIRED, values=values, status=403)
    body: dict[str, Any] = {"name": values["name"]}
    if values["birthday"]:  # left empty: not given (a birthday is never cleared here)
        body["birthday"] = values["birthday"]
    try:
        data = MyProfileUpdate.model_validate(body)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        return await _render(request, principal, values=values, status=422,
                             field_errors={f: FIELD_ERRORS[f] for f in fields
                                           if f in FIELD_ERRORS})
    try:
        async with services(request).unit() as unit:
            await service.update_my_profile(unit.conn, principal.merchant.id,
                                            principal.member_id, data)
    except service.BirthdayLocked:
        return await _render(request, principal, error=LOCKED, values=values, status=409)
    return RedirectResponse(f"{PROFILE}?saved=1", status_code=303)


async def _render(request: Request, principal: MemberPrincipal, *, notice: str | None = None,
                  error: str | None = None, values: dict[str, str] | None = None,
                  field_errors: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    member = await queries.member_by_id(pool, principal.merchant.id, principal.member_id)
    if member is None:
        return signed_out(request)
    today = services(request).clock.now().astimezone(ZoneInfo(principal.merchant.time_zone)).date()
    return render(request, "profile.html", {
        "merchant": principal.merchant, "member": member, "notice": notice, "error": error,
        "values": values or {"name": member["name"] or "", "birthday": ""},
        "field_errors": field_errors or {}, "today": today.isoformat()}, status=status)


routes = [
    Route(PROFILE, profile_page, methods=["GET"]),
    Route(PROFILE, save_profile, methods=["POST"]),
]
