from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_merchant
from engagement.kit.http import ApiDoc, api_route, json_response, parse_body, parse_query
from engagement.kit.pagination import PageQuery
from engagement.kit.state import services
from engagement.loyalty.webhooks import service
from engagement.loyalty.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointCreate,
    EndpointList,
    EndpointOut,
)

TAG = "Webhooks"


async def create_endpoint(request: Request) -> Response:
    merchant = await require_merchant(request)
    data = await parse_body(request, EndpointCreate)
    svc = services(request)
    async with svc.unit() as unit:
        endpoint = await service.create_endpoint(
            unit.conn, merchant.id, data, svc.clock.now(),
            allow_private=svc.settings.webhooks_allow_private_targets)
    return json_response(endpoint, status=201)


async def list_deliveries(request: Request) -> Response:
    merchant = await require_merchant(request)
    page = parse_query(request, PageQuery)
    return json_response(await service.deliveries(
        services(request).pool, merchant.id, request.path_params["webhook_id"], page.cursor,
        page.limit))


async def list_endpoints(request: Request) -> Response:
    merchant = await require_merchant(request)
    return json_response(await service.list_endpoints(services(request).pool, merchant.id))


async def retry_delivery(request: Request) -> Response:
    merchant = await require_merchant(request)
    svc = services(request)
    async with svc.unit() as unit:
        delivery = await service.retry(unit.conn, merchant.id, request.path_params["webhook_id"],
                                       request.path_params["delivery_id"], svc.clock.now())
    return json_response(delivery)


routes = [
    api_route("/api/v1/webhooks", create_endpoint, "POST", ApiDoc(
        "Register a URL for events; deliveries are signed the Standard Webhooks way with the "
        "returned secret (webhook-id, webhook-timestamp, webhook-signature headers)", TAG,
        auth="merchant", body=EndpointCreate, response=EndpointOut, status=201,
        errors=("webhook_url_not_allowed", "validation_error"))),
    api_route("/api/v1/webhooks/{webhook_id}/deliveries", list_deliveries, "GET", ApiDoc(
        "The delivery log: each event's status, attempts and last response, newest first",
        TAG, auth="merchant", response=DeliveryPage, errors=("not_found",),
        query={"limit": "page size, at most 200", "cursor": "next_cursor of the last page"})),
    api_route("/api/v1/webhooks", list_endpoints, "GET", ApiDoc(
        "The merchant's webhook endpoints, newest first, with how many deliveries failed "
        "(no secrets: a secret is shown once, at creation)", TAG, auth="merchant",
        response=EndpointList)),
    api_route("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", retry_delivery,
              "POST", ApiDoc(
        "Send a failed delivery once more (same webhook-id), due at once", TAG,
        auth="merchant", response=DeliveryOut,
        errors=("not_found", "delivery_not_failed"))),
]
