"""The merchant's look on member pages, set on the console's settings page (owners only):
the brand colour's rule (its form is the settings page's, engagement/merchants/console.py;
member pages derive a darker shade and the text colour from it, engagement/kit/branding.py)
and the logo. The page's script uploads the logo as the image's own bytes; it is kept in
PostgreSQL and served at a URL that changes with its content, so browsers may cache it for
good and every web process can serve it."""

from __future__ import annotations

import hashlib
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engagement.console.shell import OWNER, ConsoleUser, page_route, redirect
from engagement.kit.i18n import N_, gettext
from engagement.kit.state import services
from engagement.merchants import queries

MAX_LOGO_BYTES = 300 * 1024  # merchant_logos_size
_HEX = re.compile(r"^#[0-9a-f]{6}$")
NOTICES = {"brand_saved": N_("品牌颜色已保存，会员页已经换上"),
           "logo_saved": N_("店铺标志已更新"),
           "logo_removed": N_("店铺标志已移除，会员页改用店名首字")}


def sniff(image: bytes) -> str | None:
    """The image's type from its first bytes (never from what the browser claims)."""
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if image.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    return None


def logo_url(merchant_id: str, version: str) -> str:
    return f"/brand/{merchant_id}/logo/{version}"


def read_color(value: str) -> str | None:
    color = value.strip().lower()
    return color if _HEX.match(color) else None


def _refused(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": gettext(message)}}, status_code=status)


async def upload_logo(request: Request, user: ConsoleUser) -> Response:
    """POST the image itself (the page's script sends the chosen file's bytes)."""
    image = await request.body()
    if len(image) > MAX_LOGO_BYTES:
        return _refused(413, "logo_too_large", N_("图片太大：请选择 300 KB 以内的图片"))
    content_type = sniff(image)
    if content_type is None:
        return _refused(415, "logo_type", N_("只支持 PNG、JPG 或 WebP 图片"))
    svc = services(request)
    version = hashlib.sha256(image).hexdigest()[:16]
    url = logo_url(user.merchant.id, version)
    async with svc.unit() as unit:
        await queries.save_logo(unit.conn, user.merchant.id, content_type, image, version, url,
                                svc.clock.now())
    return JSONResponse({"logo_url": url, "notice": "logo_saved"}, status_code=201)


async def remove_logo(request: Request, user: ConsoleUser) -> Response:
    svc = services(request)
    async with svc.unit() as unit:
        await queries.remove_logo(unit.conn, user.merchant.id)
    return redirect("/console/settings", "logo_removed")


async def serve_logo(request: Request) -> Response:
    found = await queries.logo(services(request).pool, request.path_params["merchant_id"],
                               request.path_params["version"])
    if found is None:
        return Response(status_code=404)
    return Response(bytes(found["image"]), media_type=found["content_type"], headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff"})


routes = [Route("/brand/{merchant_id}/logo/{version}", serve_logo, methods=["GET"])]
console_routes = [
    page_route("/console/settings/logo", upload_logo, methods=("POST",), allow=OWNER),
    page_route("/console/settings/logo/remove", remove_logo, methods=("POST",), allow=OWNER),
]
