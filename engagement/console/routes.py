"""The console's own pages: signing in and out, and the way in (the console for owners and
managers, the till for cashiers)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.console import service, sessions
from engagement.console.schemas import LoginForm, Role
from engagement.console.shell import (
    HOME,
    MANAGERS,
    STAFF,
    TILL,
    ConsoleUser,
    current_user,
    landing,
    page_route,
    public_route,
    redirect,
    render_page,
)
from engagement.kit.constants import CONSOLE_COOKIE
from engagement.kit.errors import AppError
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.proxies import client_address
from engagement.kit.state import services

NOTICES = {"signed_out": N_("你已退出登录")}


def _safe_next(value: str | None, role: Role) -> str:
    """Back into the console or the till only: an open redirect would lend the merchant's
    site to phishing. A cashier goes to the till whatever ``next`` says: no other page
    would open for them."""
    start = landing(role)
    if not value or "\\" in value or "//" in value:
        return start
    path = value.split("?", 1)[0].split("#", 1)[0]
    till = path == TILL or path.startswith(f"{TILL}/")
    console = path.startswith("/console/") and not path.startswith("/console/login")
    if not (till or console) or (role == "cashier" and not till):
        return start
    return value


# Sign-in

async def login_page(request: Request) -> Response:
    user = await current_user(request)
    if user is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next"), user.role),
                                status_code=303)
    return render_page(request, None, "console/login.html",
                       {"form": {"next": request.query_params.get("next", "")}})


async def login(request: Request) -> Response:
    data = await read_form(request)
    svc = services(request)
    try:
        form = LoginForm.model_validate(data)
        user = await service.authenticate(svc, form, client_address(request))
    except ValidationError:
        return render_page(request, None, "console/login.html",
                           {"form": data, "error": N_("请输入邮箱和密码")}, status=422)
    except AppError as exc:
        context: dict[str, Any] = {"form": {**data, "password": ""}}
        if exc.status == 429:
            minutes = max(1, round(exc.details.get("retry_after", 60) / 60))
            context.update(error=N_("登录尝试次数过多，请 %(minutes)s 分钟后再试"),
                           minutes=minutes)
        else:
            context["error"] = N_("邮箱或密码不正确")
        response = render_page(request, None, "console/login.html", context,
                               status=exc.status)
        for name, value in (exc.headers() or {}).items():
            response.headers[name] = value
        return response
    session_id = await sessions.start(svc.redis, user_id=user["id"],
                                      merchant_id=user["merchant_id"], email=user["email"],
                                      now=svc.clock.now())
    response = RedirectResponse(_safe_next(form.next, user["role"]), status_code=303)
    sessions.set_cookie(request, response, session_id)
    return response


async def logout(request: Request, user: ConsoleUser) -> Response:
    await sessions.end(services(request).redis, request.cookies.get(CONSOLE_COOKIE))
    response = redirect("/console/login", "signed_out")
    sessions.clear_cookie(response)
    return response


async def home(request: Request, user: ConsoleUser) -> Response:
    return RedirectResponse(HOME, status_code=303)


routes: list[Route] = [
    public_route("/console/login", login_page),
    public_route("/console/login", login, methods=("POST",)),
    page_route("/console/logout", logout, methods=("POST",), allow=STAFF),
    page_route("/console", home, allow=MANAGERS),
]
