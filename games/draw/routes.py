"""The draw endpoint (the hot path) and a member's draws."""

from __future__ import annotations

import hashlib
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from engagement.auth import require_member
from engagement.kit.errors import InvalidInput, PayloadTooLarge
from engagement.kit.http import ApiDoc, api_route, decode_json, json_response, parse_query
from engagement.kit.pagination import PageQuery, next_cursor
from engagement.kit.state import services
from games.draw import fairness
from games.draw import queries as draw_queries
from games.draw import service as draws
from games.draw.schemas import DrawIn, DrawOut, DrawPage, FairnessReveal
from games.errors import NonceRequired

TAG = "Campaigns and draws"

MAX_DRAW_BODY = 4096  # an empty body, or a small object: {"client_seed"}
MAX_CLIENT_SEED = 64
_DRAW_HEADERS = [(b"content-type", b"application/json")]


class DrawEndpoint:
    """POST /api/v1/campaigns/{campaign_id}/draws: the hot path, as a plain ASGI app.

    The body is read straight from ``receive`` and the stored answer sent as it is, without
    the Request/Response wrapping (and its second exception layer) that other routes get;
    a draw's budget is tens of microseconds. Errors raised here reach the app's exception
    handlers like any route's."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        principal = await require_member(request)
        raw = await _read_body(receive)
        if raw is None:  # the client left before sending its body: nothing was done
            return
        request_hash = "empty"
        client_seed = None
        if raw:
            payload = decode_json(raw, request.headers.get("content-type"))
            if not isinstance(payload, dict):
                raise InvalidInput("The body must be a JSON object.",
                                   fields=[{"field": "body"}])
            if payload:
                request_hash = hashlib.sha256(raw).hexdigest()[:16]
            client_seed = _client_seed(payload)
        key = request.headers.get("idempotency-key")
        if key is not None and not (0 < len(key) <= 255 and key.isprintable()):
            raise InvalidInput("Idempotency-Key must be 1-255 printable characters.",
                               fields=[{"field": "Idempotency-Key"}])
        if client_seed is not None and key is None:
            raise NonceRequired(fields=[{"field": "Idempotency-Key"}])
        body = (await draws.draw(services(request), principal,
                                 scope["path_params"]["campaign_id"], key, request_hash,
                                 client_seed)).encode()
        await send({"type": "http.response.start", "status": 201,
                    "headers": [*_DRAW_HEADERS, (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})


def _client_seed(payload: dict[str, object]) -> str | None:
    """The body's optional client seed: 1-64 printable characters (fairness.py)."""
    seed = payload.get("client_seed")
    if seed is None:
        return None
    if not (isinstance(seed, str) and 0 < len(seed) <= MAX_CLIENT_SEED and seed.isprintable()):
        raise InvalidInput(f"client_seed must be 1-{MAX_CLIENT_SEED} printable characters.",
                           fields=[{"field": "client_seed"}])
    return seed


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_DRAW_BODY:
            raise PayloadTooLarge(f"A draw's body is at most {MAX_DRAW_BODY} bytes.",
                                  limit=MAX_DRAW_BODY)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def my_draws(request: Request) -> Response:
    principal = await require_member(request)
    page = parse_query(request, PageQuery)
    rows = await draw_queries.draws_of_member(services(request).pool, principal.member_id,
                                         page.cursor, page.limit)
    items = [DrawOut.model_validate(r["response"] if isinstance(r["response"], dict)
                                    else json.loads(r["response"])) for r in rows]
    return json_response(DrawPage(items=items,
                                  next_cursor=next_cursor([r["id"] for r in rows], page.limit)))


async def campaign_fairness(request: Request) -> Response:
    out = await fairness.reveal(services(request).pool, request.path_params["campaign_id"])
    return json_response(out)


routes = [
    api_route("/api/v1/campaigns/{campaign_id}/draws", DrawEndpoint(), "POST", ApiDoc(
        "Draw once (member token)", TAG, auth="member", body=DrawIn, response=DrawOut,
        status=201,
        idempotent=True,
        errors=("campaign_not_active", "draw_limit_reached", "insufficient_points",
                "rate_limited", "idempotency_key_reused", "not_found", "validation_error",
                "nonce_required",
                "payload_too_large", "unsupported_media_type"))),
    api_route("/api/v1/me/draws", my_draws, "GET", ApiDoc(
        "The signed-in member's draws, newest first", TAG, auth="member", response=DrawPage,
        query={"limit": "page size, at most 200", "cursor": "next_cursor of the last page"})),
    api_route("/api/v1/campaigns/{campaign_id}/fairness", campaign_fairness, "GET", ApiDoc(
        "A campaign's fairness record (public): the commitment, the weights, and the server "
        "seed once it has ended", TAG, response=FairnessReveal, errors=("not_found",))),
]
