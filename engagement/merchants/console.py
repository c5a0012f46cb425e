"""The console's settings page (owners only): the merchant's name, slug and time zone as
they were created, its brand on member pages (colour and logo, with a live preview:
engagement/merchants/brand.py), and its API keys: listed by their first characters,
created (the key shown once), revoked (refused from that moment on)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console.forms import Form
from engagement.console.shell import OWNER, ConsoleUser, page_route, redirect, render_page
from engagement.kit.branding import brand_of
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.merchants import brand, queries, service

KEY_NAME_MAX = 40  # api_keys_name_length
NOTICES = {"key_revoked": N_("API 密钥已停用，用它的请求会立即被拒绝"), **brand.NOTICES}


async def settings_page(request: Request, user: ConsoleUser, *,
                        form: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None, status: int = 200) -> Response:
    keys = await queries.api_keys_of_merchant(services(request).pool, user.merchant.id)
    return render_page(request, user, "console/settings.html", {
        "keys": keys, "active_keys": sum(1 for k in keys if k["revoked_at"] is None),
        "own_brand": brand_of(user.merchant), "form": form or {}, "errors": errors or {},
        "max_logo_kb": brand.MAX_LOGO_BYTES // 1024}, status=status, active="settings")


async def save_color(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    color = brand.read_color(data.get("brand_color", ""))
    if color is None:
        return await settings_page(request, user, form=data, status=422, errors={
            "brand_color": N_("请填写 # 开头的 6 位颜色值，如 #e4393c")})
    await queries.set_brand_color(services(request).pool, user.merchant.id, color)
    return redirect("/console/settings", "brand_saved")


async def create_key(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    form = Form(data)
    name = form.text("name", required=True, max_length=KEY_NAME_MAX)
    if form.errors:
        return await settings_page(request, user, form=data, status=422,
                                   errors={f"key_{k}": v for k, v in form.errors.items()})
    svc = services(request)
    async with svc.unit() as unit:
        key = await service.issue_api_key(unit.conn, user.merchant.id, svc.clock.now(),
                                          name=name)
    # Shown on this answer only: the service keeps the key's digest, never the key.
    return render_page(request, user, "console/api_key_created.html", {
        "key": key, "name": name, "api_url": f"{svc.settings.public_url}/api/v1",
        "docs_url": f"{svc.settings.public_url}/docs"}, active="settings")


async def revoke_key(request: Request, user: ConsoleUser) -> Response:
    svc = services(request)
    async with svc.unit() as unit:
        await service.revoke_api_key(unit.conn, user.merchant.id,
                                     request.path_params["key_id"], svc.clock.now())
    return redirect("/console/settings", "key_revoked")


routes: list[Route] = [
    page_route("/console/settings", settings_page, allow=OWNER),
    page_route("/console/settings/brand", save_color, methods=("POST",), allow=OWNER),
    *brand.console_routes,
    page_route("/console/settings/api-keys", create_key, methods=("POST",), allow=OWNER),
    page_route("/console/settings/api-keys/{key_id}/revoke", revoke_key, methods=("POST",),
               allow=OWNER),
]
