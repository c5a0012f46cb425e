"""Typed errors (``AppError`` subclasses, each with a code and a status), turned into HTTP
in one place: ``EXCEPTION_HANDLERS``, the table the app factory installs. API clients get
``{"error": {"code", "message", "details"}}``; a browser opening a page gets a friendly
page instead (``wants_page``, ``error_page``). A named constraint that a race let past the
services' own checks maps to its typed error through ``install_constraints`` (filled from
the domains' records), so it is a 4xx, not a 500."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import asyncpg
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engagement.kit.i18n import N_

log = logging.getLogger(__name__)


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "Bad request."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.detail_message = message or self.message
        self.details = details
        super().__init__(self.detail_message)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.detail_message,
                          "details": self.details}}

    def headers(self) -> dict[str, str] | None:
        return None


class Unauthorized(AppError):
    status, code, message = 401, "unauthorized", "Missing or invalid credentials."


class Forbidden(AppError):
    status, code, message = 403, "forbidden", "These credentials cannot use this endpoint."


class NotFound(AppError):
    status, code, message = 404, "not_found", "Not found."


class Conflict(AppError):
    status, code, message = 409, "conflict", "Conflict with the current state."


class InvalidInput(AppError):
    status, code, message = 422, "validation_error", "The request is not valid."


class PayloadTooLarge(AppError):
    status, code, message = 413, "payload_too_large", "The request body is too large."


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"
    message = "The body must be JSON, sent with Content-Type: application/json."


class IdempotencyKeyReused(AppError):
    status, code = 422, "idempotency_key_reused"
    message = "This Idempotency-Key was used with a different request body."


class RateLimited(AppError):
    status, code, message = 429, "rate_limited", "Too many requests; slow down."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


def validation_error(exc: ValidationError) -> InvalidInput:
    fields = [
        {
            "field": ".".join(str(p) for p in err["loc"]) or "body",
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]
    return InvalidInput(fields=fields)


# Named CHECK / UNIQUE constraints that guard scarce things map to typed errors here, so a
# race that slips past the service's own checks still ends as the right 4xx. Domains
# declare theirs in their Domain record; the composition roots install them.
CONSTRAINT_ERRORS: dict[str, type[AppError]] = {}


def install_constraints(errors: dict[str, type[AppError]]) -> None:
    CONSTRAINT_ERRORS.clear()
    CONSTRAINT_ERRORS.update(errors)


def error_response(exc: AppError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())


def wants_page(request: Request) -> bool:
    """A browser opening a page gets a friendly page; API clients always get JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/static/")) or path in ("/openapi.json", "/healthz", "/readyz"):
        return False
    return "text/html" in request.headers.get("accept", "")


# What a member reads when a page fails, by status (translated when rendered).
_PAGE_TEXTS = {
    401: (N_("请先登录"), N_("请通过商家发给你的链接进入。")),
    403: (N_("无法完成操作"), N_("页面已过期，请刷新后重试。")),
    404: (N_("页面不存在"), N_("这个链接可能已失效，或活动已下线。")),
    409: (N_("暂时无法完成"), N_("请稍后再试。")),
    413: (N_("内容太多"), N_("提交的内容超过了大小上限，请删减后再试。")),
    422: (N_("无法识别这个请求"), N_("链接或提交的内容有误，请检查后再试。")),
    429: (N_("操作太频繁"), N_("请稍等一会儿再试。")),
    500: (N_("服务开小差了"), N_("我们已经记录了这个问题，请稍后再试。")),
}


def error_page(request: Request, status: int,
               headers: Mapping[str, str] | None = None) -> Response:
    from engagement.kit.web import render  # the page layer sits above this module

    title, message = _PAGE_TEXTS.get(status, _PAGE_TEXTS[409 if status < 500 else 500])
    # The merchant console has its own look; its page picks texts for merchants by status.
    template = "console/message.html" if request.url.path.startswith("/console") \
        else "message.html"
    try:
        response = render(request, template, {"title": title, "message": message,
                                              "status": status}, status=status)
    except Exception:  # a page about an error must not fail in turn
        log.exception("could not render the error page")
        return Response("Error", status_code=status, media_type="text/plain")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if wants_page(request):
        return error_page(request, exc.status, exc.headers())
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    return error_response(validation_error(exc))


async def _integrity_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, asyncpg.IntegrityConstraintViolationError)
    name = getattr(exc, "constraint_name", None) or ""
    error = CONSTRAINT_ERRORS.get(name)
    if error is None:
        log.exception("unmapped constraint violation %s", name, exc_info=exc)
        return error_response(Conflict(constraint=name))
    return error_response(error())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if wants_page(request):
        return error_page(request, exc.status_code, exc.headers)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
    code = codes.get(exc.status_code, "http_error")
    body = {"error": {"code": code, "message": str(exc.detail), "details": {}}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    if wants_page(request):
        return error_page(request, 500)
    body = {"error": {"code": "internal_error", "message": "Internal server error.", "details": {}}}
    return JSONResponse(body, status_code=500)


EXCEPTION_HANDLERS = {
    AppError: _app_error,
    ValidationError: _validation_error,
    asyncpg.IntegrityConstraintViolationError: _integrity_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
