"""What a request may carry before any route sees it: a bounded body.

Starlette reads a body whole into memory (``request.body()``, forms), so a route cannot
defend itself against a huge one: by the time it could look, the bytes are in memory. This
middleware stops the request first, from the Content-Length header when it says too much,
and otherwise by counting the bytes as they arrive, so at most one limit's worth is held.
The 413 goes out at once; the server then reads and drops whatever the client still sends
rather than closing the connection, because most clients send their whole body before they
read, and a connection reset would lose the answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engagement.constants import BODY_LIMITS_BY_PREFIX, MAX_BODY_BYTES
from engagement.errors import (
    AppError,
    PayloadTooLarge,
    error_page,
    error_response,
    wants_page,
)


class RequestLimitMiddleware:
    def __init__(self, app: ASGIApp, default: int = MAX_BODY_BYTES,
                 by_prefix: Mapping[str, int] = BODY_LIMITS_BY_PREFIX) -> None:
        self.app = app
        self.default = default
        # Longest prefix first, so a nested declaration wins over its parent's.
        self.by_prefix = sorted(by_prefix.items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                # A length of more than 15 digits is too large for any limit (and int()
                # refuses very long digit strings).
                if value.isdigit() and (len(value) > 15 or int(value) > limit):
                    await _refuse(scope, receive, send, _too_large(limit))
                    return
                break
        # Counted even when Content-Length is within the limit: that leaves nothing to trust
        # in the server's framing (chunked bodies, HTTP/2) and costs one addition per chunk.
        received = 0

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


async def _refuse(scope: Scope, receive: Receive, send: Send, error: AppError) -> None:
    request = Request(scope)
    response = (error_page(request, error.status, error.headers()) if wants_page(request)
                else error_response(error))
    await response(scope, receive, send)
