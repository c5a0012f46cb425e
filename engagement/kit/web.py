"""Server-rendered pages: one jinja2 environment over every package's templates, static URLs
carrying a content hash so browsers can cache them forever, and ``render``, which gives
every page its language, brand, anti-CSRF token and Content-Security-Policy."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from engagement.kit import csrf, formats, i18n
from engagement.kit.branding import brand_of
from engagement.kit.constants import LANG_COOKIE, LANG_COOKIE_MAX_AGE
from engagement.kit.qr import qr_svg

ROOT = Path(__file__).resolve().parent.parent.parent
STATIC_DIR = ROOT / "static"
TEMPLATE_DIRS = [ROOT / pkg / "templates" for pkg in ("engagement", "games", "referrals")]


@lru_cache(maxsize=512)
def static_url(path: str) -> str:
    file = STATIC_DIR / path
    version = hashlib.sha256(file.read_bytes()).hexdigest()[:12] if file.is_file() else "0"
    return f"/static/{path}?v={version}"


class CachedStatic(StaticFiles):
    """Hashed URLs never change content, so they may be cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if scope.get("query_string"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in TEMPLATE_DIRS if d.is_dir()]),
        autoescape=jinja2.select_autoescape(["html"]),
        enable_async=False,
    )
    env.globals["static_url"] = static_url
    env.globals["lang_url"] = i18n.lang_url
    env.globals["LOCALES"] = i18n.LOCALES
    env.filters.update(money=formats.money, money_exact=formats.money_exact,
                       discount_value=formats.discount_value,
                       discount_terms=formats.discount_terms, percent=formats.percent,
                       local_time=formats.local_time, masked_phone=formats.masked_phone,
                       qr_svg=qr_svg)
    i18n.install(env)
    return env


# Member pages load nothing from other hosts (no CDN, no trackers): the browser enforces it.
# Inline styles need the per-response nonce; scripts come only from /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def render(request: Request, template: str, context: dict[str, Any],
           status: int = 200) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.templates
    locale, chosen_now = i18n.choose_locale(request)
    token, fresh_secret = csrf.page_token(request)
    nonce = secrets.token_urlsafe(16)
    page = {"request": request, "lang": locale, "csrf_token": token, "csp_nonce": nonce,
            "brand": brand_of(context.get("merchant")), **context}
    with i18n.use_locale(locale):
        html = env.get_template(template).render(**page)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = CSP.format(nonce=nonce)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Pages show one member's coupons and draws: never kept by a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    if chosen_now:
        response.set_cookie(LANG_COOKIE, locale, max_age=LANG_COOKIE_MAX_AGE, samesite="lax")
    if fresh_secret is not None:
        csrf.set_cookie(request, response, fresh_secret)
    return response
