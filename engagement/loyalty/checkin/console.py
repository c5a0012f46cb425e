"""The console's check-in page (签到设置): the program on or off, the length of its cycle,
and each streak day's points and extra draws. It saves through the same ProgramIn the API
takes, so the page and ``PUT /api/v1/check-in-program`` can never disagree."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, redirect, render_page
from engagement.kit.domain import NavItem
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.loyalty.checkin import service
from engagement.loyalty.checkin.schemas import (
    MAX_DAYS,
    MAX_DRAWS_PER_DAY,
    MAX_POINTS_PER_DAY,
    ProgramIn,
    ProgramOut,
)

PATH = "/console/check-in"
DEFAULT_CYCLE = 7
NAV = NavItem("check_in", PATH, N_("每日签到"), order=45)  # owner and manager, like MANAGERS
NOTICES = {"check_in_saved": N_("签到设置已保存")}


def _form_of(program: ProgramOut) -> dict[str, Any]:
    form: dict[str, Any] = {"enabled": program.enabled,
                            "cycle": str(len(program.rewards) or DEFAULT_CYCLE)}
    for r in program.rewards:
        form[f"day-{r.day}-points"] = str(r.points or "")
        form[f"day-{r.day}-draws"] = str(r.draws or "")
    return form


async def _page(request: Request, user: ConsoleUser, *, form: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    program = await service.get_program(services(request).pool, user.merchant.id)
    form = form or _form_of(program)
    try:
        cycle = min(MAX_DAYS, max(1, int(form.get("cycle") or DEFAULT_CYCLE)))
    except ValueError:
        cycle = DEFAULT_CYCLE
    return render_page(request, user, "console/check_in.html", {
        "program": program, "form": form, "errors": errors or {}, "days": range(1, cycle + 1),
        "max_days": MAX_DAYS}, status=status, active="check_in")


async def page(request: Request, user: ConsoleUser) -> Response:
    return await _page(request, user)


def _read(data: dict[str, str]) -> ProgramIn:
    form = Form(data)
    cycle = form.integer("cycle", required=True, minimum=1, maximum=MAX_DAYS)
    form.raise_if_invalid()
    assert cycle is not None
    rewards = [{"day": day,
                "points": form.integer(f"day-{day}-points", minimum=0,
                                       maximum=MAX_POINTS_PER_DAY) or 0,
                "draws": form.integer(f"day-{day}-draws", minimum=0,
                                      maximum=MAX_DRAWS_PER_DAY) or 0}
               for day in range(1, cycle + 1)]
    form.raise_if_invalid()
    return ProgramIn.model_validate({"enabled": data.get("enabled") == "on",
                                     "rewards": rewards})


async def save(request: Request, user: ConsoleUser) -> Response:
    data = await read_form(request)
    shown = {**data, "enabled": data.get("enabled") == "on"}
    svc = services(request)
    try:
        program = _read(data)
        async with svc.unit() as unit:
            await service.set_program(unit.conn, user.merchant.id, program, svc.clock.now())
    except FormErrors as exc:
        return await _page(request, user, form=shown, errors=exc.errors, status=422)
    except ValidationError as exc:
        return await _page(request, user, form=shown, status=422,
                           errors=pydantic_errors(exc, {"rewards": "cycle"}))
    return redirect(PATH, "check_in_saved")


routes = [page_route(PATH, page, allow=MANAGERS),
          page_route(PATH, save, methods=("POST",), allow=MANAGERS)]
