"""Poster pages of the console: a preview and three files (an A4 PDF and an A4 PNG to print,
a 1080x1920 PNG to share on phones) for the join page here, and for a campaign by the games
domain (games/campaigns/posters.py), both through ``poster_page`` and ``poster_file``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from engagement.console.shell import MANAGERS, ConsoleUser, page_route, render_page
from engagement.kit import i18n, posters
from engagement.kit.branding import brand_of
from engagement.kit.errors import NotFound
from engagement.kit.i18n import N_
from engagement.kit.state import services

# The files a poster page offers: what each is called on the page and on the disk.
FILES: dict[str, tuple[str, str]] = {
    "a4.pdf": (N_("A4 打印版（PDF）"), "application/pdf"),
    "a4.png": (N_("A4 图片（PNG，300 dpi）"), "image/png"),
    "phone.png": (N_("手机分享图（PNG，1080×1920）"), "image/png"),
}
JOIN_PATH = "/console/posters/join"


def translate(request: Request, message: str, **params: Any) -> str:
    """A message id in the request's language, for text drawn into an image."""
    with i18n.use_locale(i18n.choose_locale(request)[0]):
        text = i18n.gettext(message)
    return text % params if params else text


def poster_page(request: Request, user: ConsoleUser, *, heading: str, base: str,
                back: tuple[str, str], url: str, active: str) -> Response:
    """The preview and the download buttons (``heading`` and ``back``'s label already in the
    page's language); when the font is missing, the page says so (503) instead of offering
    files that would fail."""
    try:
        posters.check_fonts()
        missing = False
    except posters.PosterFontMissing:
        missing = True
    return render_page(request, user, "console/poster.html", {
        "heading": heading, "base": base, "back": back, "url": url, "files": FILES,
        "font_missing": missing}, status=503 if missing else 200, active=active)


async def poster_file(request: Request, content: posters.PosterContent, file: str,
                      name: str) -> Response:
    """One of FILES, drawn in a worker thread (an A4 page takes a second of CPU, which the
    event loop must not wait for). ``name`` is the file's name without its extension."""
    if file not in FILES:
        raise NotFound("No such poster file.")
    size, kind = file.split(".")
    if kind == "pdf":
        body = await anyio.to_thread.run_sync(posters.pdf, content)
    else:
        shape: posters.Size = "phone" if size == "phone" else "a4"
        body = await anyio.to_thread.run_sync(posters.png, content, shape)
    filename = f"{name}-{size}.{kind}"
    return Response(body, media_type=FILES[file][1], headers={
        "Content-Disposition": f"inline; filename=\"poster-{size}.{kind}\"; "
                               f"filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, max-age=60"})


def _join_content(request: Request, user: ConsoleUser) -> posters.PosterContent:
    svc = services(request)
    return posters.PosterContent(
        title=translate(request, N_("扫码成为会员")),
        dates=translate(request, N_("手机号验证即可加入，不用下载 App")),
        call=translate(request, N_("微信或手机相机扫码加入")),
        url=join_url(svc.settings.public_url, user.merchant.slug),
        brand=brand_of(user.merchant))


def join_url(public_url: str, slug: str) -> str:
    return f"{public_url.rstrip('/')}/j/{slug}"


async def join_page(request: Request, user: ConsoleUser) -> Response:
    svc = services(request)
    return poster_page(request, user, heading=translate(request, N_("会员招募海报")),
                       base=JOIN_PATH,
                       back=("/console/campaigns", translate(request, N_("营销活动"))),
                       url=join_url(svc.settings.public_url, user.merchant.slug),
                       active="campaigns")


def _join_file(file: str) -> Any:
    async def join_file(request: Request, user: ConsoleUser) -> Response:
        return await poster_file(request, _join_content(request, user), file,
                                 user.merchant.name)
    return join_file


# One path per file: the join poster is the signed-in merchant's own, named by no id.
routes = [page_route(JOIN_PATH, join_page, allow=MANAGERS),
          *[page_route(f"{JOIN_PATH}/{file}", _join_file(file), allow=MANAGERS)
            for file in FILES]]
