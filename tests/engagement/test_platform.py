"""Health, readiness, the OpenAPI document and the docs page, request ids, error shape."""

from __future__ import annotations

import re

import httpx


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_openapi_document_lists_the_contract(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert {"post"} <= set(paths["/api/v1/members"])
    assert "get" in paths["/api/v1/members/{member_id}"]
    assert "post" in paths["/api/v1/members/{member_id}/tokens"]
    assert "get" in paths["/api/v1/me"]
    body_ref = paths["/api/v1/members"]["post"]["requestBody"]["content"]["application/json"]
    schema_name = body_ref["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "external_id" in spec["components"]["schemas"][schema_name]["properties"]


async def test_docs_page_uses_only_local_assets(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    assert "http://" not in r.text and "https://" not in r.text
    for path in ("vendor/swagger-ui-bundle-5.35.0.js", "js/docs.js"):
        assert f"/static/{path}?v=" in r.text
        asset = await client.get(f"/static/{path}")
        assert asset.status_code == 200


async def test_docs_page_has_a_strict_content_security_policy(
        client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    policy = dict(part.strip().split(" ", 1) for part in
                  r.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["style-src"].startswith("'self'") and policy["object-src"] == "'none'"
    assert "unsafe" not in r.headers["content-security-policy"]
    # So everything the page runs must be a file from /static: no inline script or style.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S)
    assert len(scripts) == 2
    assert all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in r.text and "style=" not in r.text


async def test_request_id_is_returned_and_honoured(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.headers["x-request-id"].startswith("req_")
    r = await client.get("/healthz", headers={"X-Request-ID": "pos-till-7"})
    assert r.headers["x-request-id"] == "pos-till-7"


async def test_unknown_route_and_method_are_json_errors(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.delete("/api/v1/members")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
