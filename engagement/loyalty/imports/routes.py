from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from engagement.auth import require_merchant
from engagement.kit.http import ApiDoc, api_route, idempotency_key, json_response, request_hash
from engagement.kit.state import services
from engagement.loyalty.imports import service
from engagement.loyalty.imports.schemas import ImportOut, ImportQueued, PreviewOut
from engagement.points import service as points

TAG = "Loyalty"
FILE_ERRORS = ("unsupported_media_type", "invalid_encoding", "empty_file", "unknown_column",
               "duplicate_column", "missing_column", "malformed_csv", "no_rows",
               "payload_too_large")
QUERY = {"filename": "the file's name, shown in the console (optional)"}


async def create_import(request: Request) -> Response:
    merchant = await require_merchant(request)
    service.require_csv(request.headers.get("content-type"))
    key = idempotency_key(request)
    body = await request.body()  # at most 20 MiB (BODY_LIMITS_BY_PREFIX)
    filename = request.query_params.get("filename")
    svc = services(request)
    now = svc.clock.now()
    fingerprint = request_hash(request.url.path, [hashlib.sha256(body).hexdigest(), filename])
    async with svc.unit() as unit:
        status, queued = await points.respond_once(
            unit.conn, merchant.id, "imports.create", key, fingerprint, now,
            lambda: service.create_import(unit, merchant.id, body, filename, now), status=202)
    return json_response(queued, status=status)


async def preview_import(request: Request) -> Response:
    merchant = await require_merchant(request)
    service.require_csv(request.headers.get("content-type"))
    body = await request.body()
    return json_response(await service.preview(services(request).pool, merchant.id, body))


async def get_import(request: Request) -> Response:
    merchant = await require_merchant(request)
    return json_response(await service.get_import(services(request).pool, merchant.id,
                                                  request.path_params["import_id"]))


routes = [
    api_route("/api/v1/member-imports", create_import, "POST", ApiDoc(
        "Import members from a CSV file (老会员导入; body text/csv, UTF-8 with or without a "
        "BOM; header row; columns external_id (required), phone, name, birthday "
        "(YYYY-MM-DD), points, tier). 202: a job applies it; a bad row fails alone",
        TAG, auth="merchant", response=ImportQueued, status=202,
        errors=(*FILE_ERRORS, "idempotency_key_reused"), query=QUERY, raw_body="text/csv",
        idempotent=True)),
    api_route("/api/v1/member-imports/preview", preview_import, "POST", ApiDoc(
        "Check a member file without importing it: each row's problem, how many members "
        "it would create, and the first rows. Writes nothing", TAG, auth="merchant",
        response=PreviewOut, errors=FILE_ERRORS, raw_body="text/csv")),
    api_route("/api/v1/member-imports/{import_id}", get_import, "GET", ApiDoc(
        "A member import's progress and result: created, updated, unchanged, failed, and "
        "each failed row's number (the header is row 1) and code", TAG, auth="merchant",
        response=ImportOut, errors=("not_found",))),
]
