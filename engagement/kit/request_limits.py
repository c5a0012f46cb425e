"""What a request may carry before any route sees it: a bounded body, and a URL without
control characters.

Starlette reads a body whole into memory (``request.body()``, forms), so a route cannot
defend itself against a huge one: by the time it could look, the bytes are in memory. This
middleware stops the request first, from the Content-Length header when it says too much,
and otherwise by counting the bytes as they arrive, so at most one limit's worth is held.
The 413 goes out at once; uvicorn then reads and drops whatever the client still sends
(reading time, not memory) rather than the connection being closed, because most clients
send their whole body before they read, and a connection reset would lose the answer.

A NUL or other control character in a URL names nothing and PostgreSQL refuses NUL in
text, so such a URL is refused here with a 4xx, before any route could query with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engagement.kit.constants import BODY_LIMITS_BY_PREFIX, MAX_BODY_BYTES
from engagement.kit.errors import (
    AppError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    error_page,
    error_response,
    wants_page,
)

# C0 controls and DEL, in a decoded path or as raw or %-encoded bytes of a query string.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_QUERY = re.compile(rb"[\x00-\x1f\x7f]|%[01][0-9A-Fa-f]|%7[Ff]")


class RequestLimitMiddleware:
    def __init__(self, app: ASGIApp, default: int = MAX_BODY_BYTES,
                 by_prefix: Mapping[str, int] = BODY_LIMITS_BY_PREFIX) -> None:
        self.app = app
        self.default = default
        # Longest prefix first, so a nested declaration wins over its parent's.
        self.by_prefix = sorted(by_prefix.items(), key=lambda item: -len(item[0]))
        self._prefixes = tuple(by_prefix)  # one C-level test for the common case: no match

    def limit_for(self, path: str) -> int:
        if path.startswith(self._prefixes):
            for prefix, limit in self.by_prefix:
                if path == prefix or path.startswith(prefix + "/"):
                    return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Control characters are never printable: isprintable() clears nearly every path
        # quickly, and the exact check runs only on the rest (other unprintable characters).
        if not path.isprintable() and _CONTROL.search(path):
            await _refuse(scope, receive, send, NotFound())
            return
        query: bytes = scope["query_string"]
        if query and _CONTROL_IN_QUERY.search(query):
            await _refuse(scope, receive, send, _query_error(query))
            return
        limit = self.limit_for(path)
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":  # it wins over Content-Length: count
                length = None
                break
        if length is not None and length.isdigit():
            # More than 15 digits is past any limit (and int() refuses very long ones).
            if len(length) > 15 or int(length) > limit:
                await _refuse(scope, receive, send, _too_large(limit))
                return
            # HTTP frames the body by this length (a server ends it there, in HTTP/2 too),
            # so there is nothing to count, and the draw endpoint's hot path meets no wrapper.
            await self.app(scope, receive, send)
            return
        received = 0  # chunked: counted as it comes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, counting_receive, send)


def _too_large(limit: int) -> PayloadTooLarge:
    # Raised from ``receive`` too, where the app's error handlers answer it like any 413.
    return PayloadTooLarge(f"The request body is at most {limit} bytes here.", limit=limit)


def _query_error(query: bytes) -> InvalidInput:
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if _CONTROL.search(name) or _CONTROL.search(value):
            field = "query" if _CONTROL.search(name) else name
            return InvalidInput("Query parameters cannot contain control characters.",
                                fields=[{"field": field,
                                         "message": "contains a control character"}])
    # Every match above decodes to a control character; this is a fallback in case the
    # parser ever finds none, so the request is still refused.
    return InvalidInput("The query string cannot contain control characters.",
                        fields=[{"field": "query", "message": "contains a control character"}])


async def _refuse(scope: Scope, receive: Receive, send: Send, error: AppError) -> None:
    request = Request(scope)
    response = (error_page(request, error.status, error.headers()) if wants_page(request)
                else error_response(error))
    await response(scope, receive, send)
