"""The ``?store=`` filter of console pages and exports: a store of the signed-in merchant,
or none. Another merchant's store id is a 404, exactly like an id that does not exist, so
a filter never tells one merchant anything about another's stores."""

from __future__ import annotations

import asyncpg
from starlette.requests import Request

from engagement.kit.errors import NotFound
from engagement.kit.state import services
from engagement.stores import queries


async def store_param(request: Request, merchant_id: str,
                      name: str = "store") -> asyncpg.Record | None:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    row = await queries.store_by_id(services(request).pool, merchant_id, raw[:64])
    if row is None:
        raise NotFound("No such store.", store_id=raw[:64])
    return row


async def stores_of(request: Request, merchant_id: str) -> list[asyncpg.Record]:
    """The merchant's stores, for a filter's choices."""
    return await queries.stores_of_merchant(services(request).pool, merchant_id)
