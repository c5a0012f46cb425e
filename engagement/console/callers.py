"""Who is calling an API route the till uses: a merchant API key (a POS) or the till page
itself, which calls the same routes with its signed-in staff session (the console cookie)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from engagement.auth import SAFE_METHODS, require_merchant
from engagement.console.shell import ConsoleUser, current_user
from engagement.kit import csrf
from engagement.kit.errors import Unauthorized
from engagement.merchants.schemas import Merchant


@dataclass(frozen=True)
class TillCaller:
    merchant: Merchant
    staff: ConsoleUser | None  # None: a merchant API key, which acts as the owner


async def require_till(request: Request) -> TillCaller:
    """An Authorization header is a merchant key (and only that); without one, the console
    session of any role. A state change made with the cookie carries the page's CSRF token
    in its header, bound to the console session, before anything is read."""
    if request.headers.get("authorization") is not None:
        return TillCaller(await require_merchant(request), None)
    if request.method not in SAFE_METHODS:
        csrf.verify(request, request.headers.get(csrf.HEADER), area="console")
    user = await current_user(request)
    if user is None:
        raise Unauthorized()
    return TillCaller(user.merchant, user)
