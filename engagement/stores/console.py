"""The console's store pages (owners only): the merchant's stores (门店) and adding one. Staff
may belong to a store; orders and redemptions at the till record where they happened."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console.forms import Form, pydantic_errors
from engagement.console.shell import OWNER, ConsoleUser, page_route, redirect, render_page
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.stores import queries, service
from engagement.stores.schemas import StoreCreate

NOTICES = {"store_created": N_("门店已添加")}

NAME_TAKEN = N_("已经有一家同名的门店了")


async def _stores_page(request: Request, user: ConsoleUser, *, form: dict[str, str] | None = None,
                       errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return render_page(request, user, "console/stores.html", {
        "stores": await queries.stores_with_staff(services(request).pool, user.merchant.id),
        "form": form or {}, "errors": errors or {}}, status=status, active="stores")


async def stores_page(request: Request, user: ConsoleUser) -> Response:
    return await _stores_page(request, user)


async def create_store(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    form = Form(data)
    name = form.text("name", required=True, max_length=120)
    if form.errors:
        return await _stores_page(request, user, form=data, errors=form.errors, status=422)
    svc = services(request)
    try:
        body = StoreCreate.model_validate({"name": name})
        async with svc.unit() as unit:
            await service.create_store(unit.conn, user.merchant.id, body, svc.clock.now())
    except ValidationError as exc:
        return await _stores_page(request, user, form=data, errors=pydantic_errors(exc),
                                  status=422)
    except service.StoreNameTaken:
        return await _stores_page(request, user, form=data, errors={"name": NAME_TAKEN},
                                  status=409)
    return redirect("/console/stores", "store_created")


routes: list[Route] = [
    page_route("/console/stores", stores_page, allow=OWNER),
    page_route("/console/stores", create_store, methods=("POST",), allow=OWNER),
]
