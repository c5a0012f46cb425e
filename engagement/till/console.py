"""The till page (/till) for staff of every role, and the join QR code it shows a guest.

The page is one form driven by static/js/till.js: it calls the lookups (routes.py), the
quote and the order API with the staff session, so every amount on screen comes from the
service; the browser never works out money."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from engagement.console.shell import STAFF, ConsoleUser, page_route, render_page
from engagement.kit.errors import InvalidInput
from engagement.kit.fields import forbidden_character
from engagement.kit.qr import qr_svg_document
from engagement.kit.state import services
from engagement.stores import queries as store_queries

# A join link is short; anything much longer is not one of ours.
MAX_QR_TEXT = 512


async def till_page(request: Request, user: ConsoleUser) -> Response:
    store = None
    if user.store_id is not None:
        store = await store_queries.store_by_id(services(request).pool, user.merchant.id,
                                                user.store_id)
    return render_page(request, user, "till/till.html", {
        "store": store,
        "config": {"storeId": user.store_id, "timeZone": user.merchant.time_zone},
    })


async def join_qr(request: Request, user: ConsoleUser) -> Response:
    """The QR code of a guest order's join_url. Only links into this service are drawn,
    so the till cannot be made to show a customer a code for another site."""
    url = request.query_params.get("url", "")
    public = urlsplit(services(request).settings.public_url)
    target = urlsplit(url) if len(url) <= MAX_QR_TEXT else None
    if target is None or forbidden_character(url) is not None \
            or (target.scheme, target.netloc) != (public.scheme, public.netloc) \
            or not target.path.startswith("/"):
        raise InvalidInput("Only this service's own links have a QR code here.",
                           fields=[{"field": "url"}])
    return Response(qr_svg_document(url), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


routes = [
    page_route("/till", till_page, allow=STAFF),
    page_route("/till/join-qr.svg", join_qr, allow=STAFF),
]
