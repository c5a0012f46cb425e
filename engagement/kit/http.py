"""Request parsing and responses shared by every domain's routes, plus the metadata that
feeds the OpenAPI document."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from engagement.kit.constants import MAX_JSON_DEPTH
from engagement.kit.errors import (
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
    validation_error,
)

M = TypeVar("M", bound=BaseModel)
# merchant_or_till: a merchant API key, or the till's signed-in staff session (its cookie).
Auth = Literal["merchant", "member", "merchant_or_member", "merchant_or_till"] | None
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ApiDoc:
    summary: str
    tag: str
    auth: Auth = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses with the same body (200 = existing)
    errors: tuple[str, ...] = ()
    idempotent: bool = False
    query: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None  # a body that is a file of this media type (text/csv)


def api_route(path: str, handler: Handler | ASGIApp, method: str, doc: ApiDoc) -> Route:
    route = Route(path, handler, methods=[method])
    route.openapi = doc  # type: ignore[attr-defined]
    return route


async def read_json(request: Request) -> Any:
    return decode_json(await request.body(), request.headers.get("content-type"))


def decode_json(raw: bytes, content_type: str | None) -> Any:
    """A request's JSON body; no body at all reads as ``{}`` (publish and draw posts carry
    none). A body must say it is JSON: a form or text posted by mistake is refused rather
    than half-understood."""
    if not raw:
        return {}
    if not is_json_media_type(content_type):
        raise UnsupportedMediaType(content_type=content_type or "")
    try:
        text = raw.decode("utf-8-sig")
        if _nests_deeper(text, MAX_JSON_DEPTH):
            raise InvalidInput(f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
                               fields=[{"field": "body", "message": "too deeply nested"}])
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput("The body is not valid JSON.",
                           fields=[{"field": "body", "message": str(exc)}]) from exc


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<x>+json``, parameters (charset) allowed."""
    media = (content_type or "").partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _nests_deeper(text: str, limit: int) -> bool:
    """Whether arrays and objects nest past ``limit``, found before parsing: the parser
    recurses once per level, and a body of nothing but brackets would end in RecursionError.
    Bodies with few brackets are done with two counts; a full scan costs about what parsing
    the body would."""
    if text.count("[") + text.count("{") <= limit:
        return False
    # Brackets inside strings do not nest. Without escaped backslashes and quotes, every
    # other quote opens a string. (Outside a string a backslash is already a syntax error,
    # where the parser stops.)
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    brackets = _NOT_BRACKET.sub("", "".join(unescaped.split('"')[0::2]))
    depths = accumulate(map(_STEP.__getitem__, brackets))
    return next(filter(limit.__lt__, depths), None) is not None


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
    raw = await request.body()  # at most the request limit (engagement/kit/request_limits.py)
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


# Idempotency-Key (API conventions): the header, and what makes a retry the same request.

def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 128 and key.isprintable()):
        raise InvalidInput("Idempotency-Key must be 1-128 printable characters.",
                           fields=[{"field": "Idempotency-Key"}])
    return key


def request_hash(request_path: str, body: object) -> str:
    raw = json.dumps([request_path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()
