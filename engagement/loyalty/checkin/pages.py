"""The daily check-in on the member home: a card with the calendar strip, today's and the
next reward and the 签到 button, shown only while the merchant's program is on.

static/js/check-in.js posts to the API (``POST /api/v1/me/check-ins``, with the page's
CSRF header) and updates the card in place. Without the script the button is a plain
form post to ``/m/check-in``, which checks in the same way and redirects back to the home
with the outcome in ``?check_in=`` for the card to show."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.home import HomeSection
from engagement.kit import csrf
from engagement.kit.errors import AppError
from engagement.kit.http import read_form
from engagement.kit.state import services
from engagement.loyalty.checkin import service
from engagement.members.schemas import MemberPrincipal

HOME = "/m"
# Outcomes of the form post, shown by the card after the redirect (``?check_in=``).
OUTCOMES = {"done": "done", service.AlreadyCheckedIn.code: "already",
            service.CheckInDisabled.code: "off", csrf.CsrfFailed.code: "expired"}
SHOWN = {*OUTCOMES.values(), "error"}


async def home_card(request: Request, principal: MemberPrincipal) -> HomeSection | None:
    svc = services(request)
    status = await service.status(svc.pool, principal.merchant.id, principal.member_id,
                                  principal.merchant.time_zone, svc.clock.now())
    if not status.enabled:
        return None
    outcome = request.query_params.get("check_in")
    return HomeSection("_check_in.html", {
        "status": status,
        "outcome": outcome if outcome in SHOWN else None}, order=12)


async def check_in_form(request: Request) -> Response:
    """The button without JavaScript: check in, then back to the home's card."""
    form = await read_form(request)
    principal = await optional_member(request)
    if principal is None:
        return RedirectResponse(HOME, status_code=303)
    try:
        csrf.verify(request, form.get(csrf.FORM_FIELD))
        svc = services(request)
        async with svc.unit() as unit:
            await service.check_in(unit.conn, principal.merchant.id, principal.member_id,
                                   principal.merchant.time_zone, svc.clock.now())
        outcome = OUTCOMES["done"]
    except AppError as exc:
        outcome = OUTCOMES.get(exc.code, "error")
    return RedirectResponse(f"{HOME}?check_in={outcome}#check-in", status_code=303)


routes = [Route("/m/check-in", check_in_form, methods=["POST"])]
