"""The OpenAPI document, built from the ``ApiDoc`` each API route carries, and a docs page
served from vendored Swagger UI (no CDN), under the member pages' Content-Security-Policy."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engagement.kit.constants import CONSOLE_COOKIE
from engagement.kit.http import ApiDoc
from engagement.kit.web import CSP

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "object"}}}},
}


def build_openapi(routes: list[BaseRoute], *, title: str, version: str) -> dict[str, Any]:
    documented = [(r, r.openapi) for r in routes if isinstance(r, Route) and hasattr(r, "openapi")]
    models: set[tuple[type[BaseModel], str]] = set()
    for _, doc in documented:
        if doc.body is not None:
            models.add((doc.body, "validation"))
        if doc.response is not None:
            models.add((doc.response, "serialization"))
    ordered: list[Any] = sorted(models, key=lambda m: (m[0].__name__, m[1]))
    keys, defs = models_json_schema(ordered, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for route, doc in documented:
        assert route.methods is not None
        method = next(m for m in route.methods if m != "HEAD").lower()
        paths.setdefault(route.path, {})[method] = _operation(route, doc, keys)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Member engagement and referral service. Money is integer "
                                "cents; errors are `{\"error\": {\"code\", \"message\", "
                                "\"details\"}}`."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "merchantKey": {"type": "http", "scheme": "bearer",
                            "description": "Merchant API key (ek_...)"},
            "memberToken": {"type": "http", "scheme": "bearer",
                            "description": "Member token (mt_...)"},
            "tillSession": {"type": "apiKey", "in": "cookie", "name": CONSOLE_COOKIE,
                            "description": "The till page's signed-in staff session; "
                                           "state changes also send X-CSRF-Token"}}},
    }


def _operation(route: Route, doc: ApiDoc, keys: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": doc.summary, "tags": [doc.tag],
                          "operationId": route.name}
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in route.param_convertors]
    params += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"},
                "description": text} for name, text in doc.query.items()]
    if doc.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "maxLength": 255},
                       "description": "Replays the first response for 24 h at least."})
    if params:
        op["parameters"] = params
    if doc.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": keys[(doc.body, "validation")]}}}
    elif doc.raw_body is not None:
        op["requestBody"] = {"required": True, "content": {doc.raw_body: {
            "schema": {"type": "string"}}}}
    ok: dict[str, Any] = {"description": "OK"}
    if doc.response is not None:
        ok["content"] = {"application/json": {"schema": keys[(doc.response, "serialization")]}}
    responses: dict[str, Any] = {str(status): ok for status in (doc.status, *doc.also)}
    error_ref = {"content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}
    if doc.auth is not None:
        responses["401"] = {"description": "Missing or invalid credentials", **error_ref}
        responses["403"] = {"description": "Wrong kind of credentials", **error_ref}
        schemes = {"merchant": ["merchantKey"], "member": ["memberToken"],
                   "merchant_or_member": ["merchantKey", "memberToken"],
                   "merchant_or_till": ["merchantKey", "tillSession"]}[doc.auth]
        op["security"] = [{s: []} for s in schemes]
    # Any operation may refuse its input (422 with the fields, 413, 415) or be throttled
    # (429): a 4xx is always the error envelope; the codes named are the operation's own.
    codes = ", ".join(doc.errors) if doc.errors else "the common ones only"
    responses["4XX"] = {"description": f"Error codes: {codes}", **error_ref}
    op["responses"] = responses
    return op


async def openapi_json(request: Request) -> Response:
    cached = getattr(request.app.state, "openapi", None)
    if cached is None:
        cached = build_openapi(request.app.routes, title="Engagement API", version="1.0.0")
        request.app.state.openapi = cached
    return JSONResponse(cached)


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Engagement API</title>
<link rel="stylesheet" href="{css}">
</head><body><div id="swagger-ui"></div>
<script src="{js}"></script>
<script src="{init}"></script>
</body></html>"""


async def docs_page(request: Request) -> Response:
    static_url = request.app.state.static_url
    return HTMLResponse(DOCS_HTML.format(
        css=static_url("vendor/swagger-ui-5.35.0.css"),
        js=static_url("vendor/swagger-ui-bundle-5.35.0.js"),
        init=static_url("js/docs.js"),
    ), headers={
        # The member pages' policy: Swagger UI runs from /static (docs.js starts it, with
        # the validator badge off) and needs nothing inline or from another host.
        "Content-Security-Policy": CSP.format(nonce=secrets.token_urlsafe(16)),
        "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"})
