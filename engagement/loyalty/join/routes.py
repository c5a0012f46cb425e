"""The join pages: ``/j/{merchant_slug}?next=/play/...`` (a merchant's join link)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from engagement.auth import optional_member
from engagement.kit import csrf, i18n
from engagement.kit.constants import JOIN_RESEND_SECONDS
from engagement.kit.errors import AppError, NotFound, RateLimited
from engagement.kit.http import read_form
from engagement.kit.i18n import N_
from engagement.kit.proxies import client_address
from engagement.kit.session import safe_next, sign_in
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.loyalty.join import service
from engagement.loyalty.join.codes import CodeExpired, CodeInvalid, ResendTooSoon
from engagement.loyalty.join.schemas import CodeRequest, JoinRequest
from engagement.merchants import queries as merchant_queries
from engagement.merchants.schemas import Merchant

# What the visitor reads for each failure (translated in the template).
_TEXTS: dict[str, str] = {
    "phone": N_("请输入正确的11位手机号"),
    "code": N_("请输入6位数字验证码"),
    CodeInvalid.code: N_("验证码不正确，还可以再试 %(left)s 次"),
    CodeExpired.code: N_("验证码已失效，请重新获取"),
    ResendTooSoon.code: N_("验证码已发送，请 %(seconds)s 秒后再试"),
    RateLimited.code: N_("操作太频繁，请稍后再试"),
    csrf.CsrfFailed.code: N_("页面已过期，请刷新后重试"),
}


async def _merchant(request: Request) -> Merchant:
    merchant = await merchant_queries.merchant_by_slug(services(request).pool,
                                                       request.path_params["slug"])
    if merchant is None:
        raise NotFound("No such merchant.")
    return merchant


def _page(request: Request, merchant: Merchant, form: dict[str, str], *,
          notice: dict[str, Any] | None = None, status: int = 200) -> Response:
    return render(request, "join.html", {
        "merchant": merchant, "next": safe_next(form.get("next")),
        "share": form.get("share") or "", "phone": form.get("phone", ""),
        "sent": bool(notice and notice.get("sent")), "notice": notice,
        "resend_seconds": JOIN_RESEND_SECONDS}, status=status)


def _failure(exc: AppError | ValidationError) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "phone"
        return {"text": _TEXTS["code" if field == "code" else "phone"], "params": {},
                "status": 422, "code": "validation_error", "field": field}
    params: dict[str, Any] = {}
    if isinstance(exc, CodeInvalid):
        params["left"] = exc.details.get("attempts_left", 0)
    if isinstance(exc, RateLimited):
        params["seconds"] = exc.retry_after
    return {"text": _TEXTS.get(exc.code, _TEXTS[RateLimited.code]), "params": params,
            "status": exc.status, "code": exc.code,
            "field": "code" if exc.code in (CodeInvalid.code, CodeExpired.code) else "phone"}


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


async def join_page(request: Request) -> Response:
    merchant = await _merchant(request)
    form = dict(request.query_params)
    principal = await optional_member(request)
    if principal is not None and principal.merchant.id == merchant.id:
        return RedirectResponse(safe_next(form.get("next")), status_code=303)
    return _page(request, merchant, form)


async def send_code(request: Request) -> Response:
    merchant = await _merchant(request)
    form = await read_form(request)
    try:
        csrf.verify(request, form.get(csrf.FORM_FIELD) or request.headers.get(csrf.HEADER))
        data = CodeRequest.model_validate(form)
        await service.send_code(services(request), merchant, data.phone,
                                client_address(request))
    except (AppError, ValidationError) as exc:
        failure = _failure(exc)
        if _wants_json(request):
            locale, _ = i18n.choose_locale(request)
            message_id: str = failure["text"]
            with i18n.use_locale(locale):
                text = i18n.gettext(message_id) % failure["params"]
            return JSONResponse({"error": {"code": failure["code"], "message": text,
                                           "details": {"field": failure["field"]}}},
                                status_code=failure["status"])
        return _page(request, merchant, form, notice=failure, status=failure["status"])
    if _wants_json(request):
        return JSONResponse({"sent": True, "phone": data.phone}, status_code=202)
    form["phone"] = data.phone
    return _page(request, merchant, form, notice={"sent": True})


async def join(request: Request) -> Response:
    merchant = await _merchant(request)
    form = await read_form(request)
    try:
        csrf.verify(request, form.get(csrf.FORM_FIELD))
        data = JoinRequest.model_validate(form)
        token, _ = await service.join(services(request), merchant, data,
                                      client_address(request))
    except (AppError, ValidationError) as exc:
        failure = _failure(exc)
        return _page(request, merchant, form, notice=failure, status=failure["status"])
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    sign_in(request, response, token.token)
    return response


routes = [
    Route("/j/{slug}", join_page, methods=["GET"]),
    Route("/j/{slug}", join, methods=["POST"]),
    Route("/j/{slug}/code", send_code, methods=["POST"]),
]
