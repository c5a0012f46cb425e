from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_merchant
from engagement.console.callers import require_till
from engagement.kit.http import ApiDoc, api_route, json_response, parse_body
from engagement.kit.state import services
from engagement.stores import service
from engagement.stores.schemas import StoreCreate, StoreList, StoreOut

TAG = "Stores"


async def create_store(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, StoreCreate)
    svc = services(request)
    async with svc.unit() as unit:
        store = await service.create_store(unit.conn, merchant.id, data, svc.clock.now())
    return json_response(store, status=201)


async def list_stores(request: Request) -> Response:
    caller = await require_till(request)
    items = await service.list_stores(services(request).pool, caller.merchant.id)
    return json_response(StoreList(items=items))


routes = [
    api_route("/api/v1/stores", create_store, "POST", ApiDoc(
        "Add a store (门店): orders and redemptions record where they happened", TAG,
        auth="merchant", body=StoreCreate, response=StoreOut, status=201,
        errors=("store_name_taken", "validation_error"))),
    api_route("/api/v1/stores", list_stores, "GET", ApiDoc(
        "The merchant's stores, by name", TAG, auth="merchant_or_till",
        response=StoreList)),
]
