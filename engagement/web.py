"""Server-rendered pages: one jinja2 environment over every package's templates, and static
URLs carrying a content hash so browsers can cache them forever."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

ROOT = Path(__file__).resolve().parent.parent
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
    return env


def render(request: Request, template: str, context: dict[str, Any],
           status: int = 200) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status)
