"""The console's staff pages (owners only): who can sign in, with which role and store;
adding a member of staff (the password typed by the owner, or generated and shown once),
changing a role or store, removing someone, which ends their open sessions at once."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console import passwords, queries, service, sessions
from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.schemas import MIN_PASSWORD_LENGTH, ROLES, StaffChange, UserCreate
from engagement.console.shell import OWNER, ConsoleUser, page_route, redirect, render_page
from engagement.kit.errors import AppError
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.stores import service as stores

NOTICES = {
    "staff_saved": N_("修改已保存"),
    "staff_removed": N_("已移除，TA 打开的后台和收银台已全部退出"),
}

BAD_EMAIL = N_("请输入有效的邮箱，如 name@example.com")
EMAIL_TAKEN = N_("这个邮箱已经有账号了")
SHORT_PASSWORD = N_("密码至少 %(n)s 个字符")
PICK_ROLE = N_("请选择角色")
UNKNOWN_STORE = N_("请选择列表中的门店")
# Refusals of a change, by error code, shown on the member's page.
REFUSALS = {
    "cannot_change_self": N_("不能修改或移除自己的店主身份，请让另一位店主来操作"),
    "last_owner": N_("店铺至少要保留一位店主"),
    "role_forbidden": N_("你已不是店主，无法修改员工"),
}


def _read_role(form: Form) -> str | None:
    role = form.data.get("role", "")
    if role not in ROLES:
        form.errors["role"] = PICK_ROLE
        return None
    return role


def _read_new(data: dict[str, str]) -> tuple[UserCreate, bool]:
    """The new member of staff, and whether the password was generated here."""
    form = Form(data)
    email = form.text("email", required=True, max_length=254)
    role = _read_role(form)
    store_id = form.text("store_id", max_length=64)
    typed = form.text("password", max_length=256)
    if typed is not None and len(typed) < MIN_PASSWORD_LENGTH:
        form.errors["password"] = SHORT_PASSWORD
        form.params["password"] = {"n": MIN_PASSWORD_LENGTH}
    form.raise_if_invalid()
    try:
        user = UserCreate.model_validate({
            "email": email, "role": role, "store_id": store_id,
            "password": typed or passwords.generate_password()})
    except ValidationError as exc:
        errors = pydantic_errors(exc)
        if "email" in errors:
            errors["email"] = BAD_EMAIL
        raise FormErrors(errors) from exc
    return user, typed is None


async def _staff_page(request: Request, user: ConsoleUser, *, form: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None,
                      params: dict[str, dict[str, Any]] | None = None,
                      status: int = 200) -> Response:
    pool = services(request).pool
    return render_page(request, user, "console/staff.html", {
        "staff": await queries.staff_of_merchant(pool, user.merchant.id),
        "stores": await stores.list_stores(pool, user.merchant.id),
        "form": form or {"role": "cashier"}, "errors": errors or {}, "params": params or {},
        "min_password": MIN_PASSWORD_LENGTH}, status=status, active="staff")


async def staff_page(request: Request, user: ConsoleUser) -> Response:
    return await _staff_page(request, user)


async def add_staff(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    shown = {**data, "password": ""}
    svc = services(request)
    try:
        new, generated = _read_new(data)
        async with svc.unit() as unit:
            row = await service.add_staff(unit.conn, user.merchant.id, new, svc.clock.now())
    except FormErrors as exc:
        return await _staff_page(request, user, form=shown, errors=exc.errors,
                                 params=exc.params, status=422)
    except service.EmailTaken:
        return await _staff_page(request, user, form=shown, errors={"email": EMAIL_TAKEN},
                                 status=409)
    except stores.UnknownStore:
        return await _staff_page(request, user, form=shown,
                                 errors={"store_id": UNKNOWN_STORE}, status=422)
    store = None
    if row["store_id"] is not None:
        store = await stores.require_store(svc.pool, user.merchant.id, row["store_id"])
    # Shown once, on this answer only: the password is stored hashed and never shown again.
    return render_page(request, user, "console/staff_added.html", {
        "member": row, "store": store, "login_url": f"{svc.settings.public_url}/console/login",
        "password": new.password if generated else None}, active="staff")


async def _member_page(request: Request, user: ConsoleUser, *,
                       form: dict[str, str] | None = None, error: str | None = None,
                       errors: dict[str, str] | None = None, status: int = 200) -> Response:
    pool = services(request).pool
    member = await service.staff_member(pool, user.merchant.id, request.path_params["user_id"])
    return render_page(request, user, "console/staff_member.html", {
        "member": member, "myself": member["id"] == user.id,
        "stores": await stores.list_stores(pool, user.merchant.id),
        "form": form or {"role": member["role"], "store_id": member["store_id"] or ""},
        "error": error, "errors": errors or {}}, status=status, active="staff")


async def member_page(request: Request, user: ConsoleUser) -> Response:
    return await _member_page(request, user)


async def change_member(request: Request, user: ConsoleUser) -> Response:
    user_id = request.path_params["user_id"]
    data = await read_form(request)
    form = Form(data)
    change = {"role": _read_role(form), "store_id": form.text("store_id", max_length=64)}
    if form.errors:
        return await _member_page(request, user, form=data, errors=form.errors, status=422)
    try:
        async with services(request).unit() as unit:
            await service.change_staff(unit.conn, user.merchant.id, user.id, user_id,
                                       StaffChange.model_validate(change))
    except stores.UnknownStore:
        return await _member_page(request, user, form=data, status=422,
                                  errors={"store_id": UNKNOWN_STORE})
    except (service.CannotChangeSelf, service.LastOwner, service.RoleForbidden) as exc:
        return await _refused(request, user, exc, form=data)
    return redirect(f"/console/staff/{user_id}", "staff_saved")


async def _refused(request: Request, user: ConsoleUser, exc: AppError,
                   form: dict[str, str] | None = None) -> Response:
    return await _member_page(request, user, form=form, error=REFUSALS[exc.code],
                              status=exc.status)


async def remove_member(request: Request, user: ConsoleUser) -> Response:
    user_id = request.path_params["user_id"]
    svc = services(request)
    try:
        async with svc.unit() as unit:
            await service.remove_staff(unit.conn, user.merchant.id, user.id, user_id,
                                       svc.clock.now())
    except (service.CannotChangeSelf, service.LastOwner, service.RoleForbidden) as exc:
        return await _refused(request, user, exc)
    # After the commit: every session they have open ends now, not at its next request.
    await sessions.end_all(svc.redis, user_id)
    return redirect("/console/staff", "staff_removed")


routes: list[Route] = [
    page_route("/console/staff", staff_page, allow=OWNER),
    page_route("/console/staff", add_staff, methods=("POST",), allow=OWNER),
    page_route("/console/staff/{user_id}", member_page, allow=OWNER),
    page_route("/console/staff/{user_id}", change_member, methods=("POST",), allow=OWNER),
    page_route("/console/staff/{user_id}/remove", remove_member, methods=("POST",),
               allow=OWNER),
]
