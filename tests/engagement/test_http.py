"""JSON request bodies (engagement/kit/http.py): they must say they are JSON, and they nest at
most MAX_JSON_DEPTH levels, found before the parser could recurse."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement.kit.constants import MAX_BODY_BYTES, MAX_JSON_DEPTH
from engagement.kit.errors import InvalidInput, UnsupportedMediaType
from engagement.kit.http import decode_json
from tests.factories import Factory


async def _members(factory: Factory) -> int:
    return int(await factory.services.pool.fetchval("SELECT count(*) FROM members"))


async def test_a_body_that_does_not_say_it_is_json_is_415(client: httpx.AsyncClient,
                                                          factory: Factory) -> None:
    shop = await factory.merchant()
    body = json.dumps({"external_id": "pos-1"}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None,
                         "application/jsonx", "text/json"):
        headers = dict(shop.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        r = await client.post("/api/v1/members", content=body, headers=headers)
        assert r.status_code == 415, (content_type, r.text)
        assert r.json()["error"]["code"] == "unsupported_media_type"
    assert await _members(factory) == 0
    for n, content_type in enumerate(("application/json", "application/json; charset=utf-8",
                                      "Application/Vnd.Shop+JSON")):
        body = json.dumps({"external_id": f"pos-{n}"}).encode()
        r = await client.post("/api/v1/members", content=body,
                              headers={"Content-Type": content_type, **shop.headers})
        assert r.status_code == 201, (content_type, r.text)
    assert await _members(factory) == 3


async def test_deep_json_is_a_422_on_body_and_changes_nothing(client: httpx.AsyncClient,
                                                              factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    campaign = await factory.campaign(shop, [
        {"name": "88积分", "kind": "points", "points": 88, "quantity": 10, "weight": 1}])
    headers = {"Content-Type": "application/json"}
    deep = [b"[" * 100_000 + b"]" * 100_000,
            b'{"external_id": "x", "a": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
            b"[" * MAX_BODY_BYTES]  # as much as the request limit lets through
    for body in deep:
        for url, who in (("/api/v1/members", shop), ("/api/v1/campaigns", shop),
                         (f"/api/v1/campaigns/{campaign['id']}/draws", member)):
            started = time.monotonic()
            r = await client.post(url, content=body, headers={**headers, **who.headers})
            assert time.monotonic() - started < 2
            expected = 413 if url.endswith("/draws") else 422  # draws take 4 KiB at most
            assert r.status_code == expected, (url, r.text[:300])
            if expected == 422:
                error = r.json()["error"]
                assert error["code"] == "validation_error"
                assert error["details"]["fields"][0]["field"] == "body"
    # 4 KiB of brackets fit under the draw endpoint's own limit and are refused by depth.
    r = await client.post(f"/api/v1/campaigns/{campaign['id']}/draws", content=b"[" * 4000,
                          headers={**headers, **member.headers})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["fields"][0]["field"] == "body"
    assert await _members(factory) == 1
    assert await factory.services.pool.fetchval("SELECT count(*) FROM campaigns") == 1
    assert await factory.services.pool.fetchval("SELECT count(*) FROM draws") == 0


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_is_parsed_and_one_more_is_refused() -> None:
    assert decode_json(_nested(MAX_JSON_DEPTH).encode(), "application/json") is not None
    with pytest.raises(InvalidInput):
        decode_json(_nested(MAX_JSON_DEPTH + 1).encode(), "application/json")
    # Brackets inside strings, escaped quotes included, do not nest.
    text = json.dumps({"a": ["[{" * 500, '\\"[[[', "x\\", "]]]"]})
    assert decode_json(text.encode(), "application/json")["a"][0] == "[{" * 500
    assert decode_json(b"", None) == {}
    assert decode_json(b"", "text/plain") == {}
    with pytest.raises(UnsupportedMediaType):
        decode_json(b"{}", None)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


_TRICKY = st.text(alphabet='[]{}"\\ab,:\n', max_size=8)
_VALUES = st.recursive(
    st.none() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=60)


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.integers(min_value=0, max_value=6))
def test_the_depth_check_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    from engagement.kit.http import _nests_deeper

    text = json.dumps(value, ensure_ascii=False)
    assert _nests_deeper(text, limit) == (_depth(value) > limit)
