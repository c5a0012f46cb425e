"""Request parsing and responses shared by every domain's routes, plus the metadata that
feeds the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from engagement.errors import InvalidInput, PayloadTooLarge, validation_error

M = TypeVar("M", bound=BaseModel)
Auth = Literal["merchant", "member", "merchant_or_member"] | None
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ApiDoc:
    summary: str
    tag: str
    auth: Auth = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[str, ...] = ()
    idempotent: bool = False
    query: dict[str, str] = field(default_factory=dict)


def api_route(path: str, handler: Handler | ASGIApp, method: str, doc: ApiDoc) -> Route:
    route = Route(path, handler, methods=[method])
    route.openapi = doc  # type: ignore[attr-defined]
    return route


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidInput("The body is not valid JSON.",
                           fields=[{"field": "body", "message": str(exc)}]) from exc


async def parse_body(request: Request, model: type[M]) -> M:
    data = await read_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


async def read_form(request: Request, max_bytes: int = 16_384) -> dict[str, str]:
    """A browser form (urlencoded; pages post nothing else), first value of each field."""
    from urllib.parse import parse_qs

    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        raise InvalidInput("Expected a form.", fields=[{"field": "body"}])
    raw = await request.body()  # at most the request limit (engagement/request_limits.py)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"A form is at most {max_bytes} bytes here.", limit=max_bytes)
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def parse_query(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise validation_error(exc) from exc


def json_response(payload: BaseModel | dict[str, Any], status: int = 200,
                  headers: dict[str, str] | None = None) -> JSONResponse:
    if isinstance(payload, BaseModel):
        body: Any = payload.model_dump(mode="json")
    else:
        body = payload
    return JSONResponse(body, status_code=status, headers=headers)
