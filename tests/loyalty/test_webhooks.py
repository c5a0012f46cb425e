from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.ids import new_id
from engagement.kit.state import Services
from engagement.loyalty.webhooks import queries, service, targets, tasks
from tests.factories import Factory, MerchantHandle
from tests.loyalty.helpers import pay
from tests.loyalty.receiver import Receiver, serve
from tests.worker import drain


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of Standard Webhooks, written from the spec."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[1] == expected for sig in headers["webhook-signature"].split())


@pytest.fixture
def allow_local(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={"webhooks_allow_private_targets": True})
    return services


async def _register(client: httpx.AsyncClient, merchant: MerchantHandle, url: str,
                    events: list[str]) -> httpx.Response:
    return await client.post("/api/v1/webhooks", json={"url": url, "events": events},
                             headers=merchant.headers)


async def test_private_network_targets_are_refused(client: httpx.AsyncClient, factory: Factory,
                                                   services: Services) -> None:
    merchant = await factory.merchant()
    for url in ("http://127.0.0.1:8000/x", "http://10.1.2.3/x", "http://169.254.169.254/",
                "http://[::1]/x", "http://localhost/x", "ftp://example.com/x",
                "http://user@192.168.1.1/x",
                "https://" + "0" * 300 + "/x"):  # a label IDNA cannot encode
        r = await _register(client, merchant, url, ["order.paid"])
        assert r.status_code == 422, url
    r = await _register(client, merchant, "http://example.com/x", ["nope"])
    assert r.status_code == 422
    assert await services.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 0
    with pytest.raises(service.UrlNotAllowed):
        await service.check_target("http://127.0.0.1/x", allow_private=False)


@pytest.mark.parametrize("address", [
    "64:ff9b::7f00:1",      # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",   # NAT64 of 169.254.169.254, the cloud metadata address
    "64:ff9b:1::a00:1",     # local-use NAT64: the operator's own network
    "2002:7f00:1::",        # 6to4 of 127.0.0.1
    "2002:a00:1::1",        # 6to4 of 10.0.0.1
    "::ffff:127.0.0.1",     # IPv4-mapped
    "::ffff:192.168.1.1",
    "::127.0.0.1",          # IPv4-compatible
    "::a00:1",
])
async def test_ipv6_forms_of_private_ipv4_addresses_are_refused(
        client: httpx.AsyncClient, factory: Factory, services: Services, address: str) -> None:
    merchant = await factory.merchant()
    r = await _register(client, merchant, f"http://[{address}]:8080/x", ["order.paid"])
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["code"] == "webhook_url_not_allowed"
    assert await services.pool.fetchval("SELECT count(*) FROM webhook_endpoints") == 0


async def test_ipv6_forms_of_public_ipv4_addresses_are_accepted(
        client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    for address in ("64:ff9b::808:808", "2002:808:808::1", "2001:4860:4860::8888"):
        r = await _register(client, merchant, f"http://[{address}]/x", ["order.paid"])
        assert r.status_code == 201, (address, r.text)


async def test_a_delivery_to_a_name_resolving_to_loopback_is_refused_and_logged(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    async with serve(Receiver()) as receiver:
        # Registered while the name pointed elsewhere; at delivery it resolves to loopback.
        url = receiver.url.replace("127.0.0.1", "localhost")
        async with services.pool.acquire() as conn:
            endpoint = await queries.insert_endpoint(
                conn, id=new_id("whk"), merchant_id=merchant.id, url=url,
                events=["member.created"], secret=service.new_secret(), now=clock.now())
        await factory.member(merchant)
        assert await tasks.deliver_due({"services": services}) == 0
        # The check is made where the connection is, not only before it.
        async with targets.delivery_client(5.0, allow_private=False) as direct:
            with pytest.raises(service.UrlNotAllowed):
                await direct.post(url, content=b"{}")
        assert receiver.requests == []
        # The same receiver is reachable when private targets are allowed (local testing).
        async with targets.delivery_client(5.0, allow_private=True) as local:
            assert (await local.post(url, content=b"{}")).status_code == 200
    log = await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries",
                           headers=merchant.headers)
    [item] = log.json()["items"]
    assert (item["status"], item["attempts"], item["last_error"], item["last_status_code"]) \
        == ("pending", 1, "url_not_allowed", None)


async def test_signed_events_reach_a_local_receiver_and_a_failure_is_retried_once(
        client: httpx.AsyncClient, factory: Factory, allow_local: Services,
        clock: FrozenClock) -> None:
    services = allow_local
    merchant = await factory.merchant()
    async with serve(Receiver(fail_first=1)) as receiver:
        r = await _register(client, merchant, receiver.url, ["member.created", "order.paid"])
        assert r.status_code == 201, r.text
        endpoint = r.json()
        assert endpoint["secret"].startswith("whsec_")
        member = await factory.member(merchant)
        await pay(client, member, "o-1", 10_000)
        # A rolled-back order sends nothing: the outbox row goes with it.
        bad = await client.post("/api/v1/orders", json={
            "id": "o-2", "member_id": member.id, "amount": 1, "coupon_codes": ["NOPE"]},
            headers=merchant.headers)
        assert bad.status_code == 422
        ctx = {"services": services}
        assert await tasks.deliver_due(ctx) == 1  # one of two answered 500
        assert await tasks.deliver_due(ctx) == 0  # the failure waits for its backoff
        clock.advance(seconds=6)
        await services.redis.enqueue_job("webhooks.deliver_due", _job_id="wh:t")
        await drain(services.settings, clock)
        clock.advance(days=4)
        assert await tasks.deliver_due(ctx) == 0  # nothing left, nothing sent twice
        ok = [q for q in receiver.requests if q.status == 200]
        assert len(receiver.requests) == 3 and len(ok) == 2
        assert len({q.headers["webhook-id"] for q in ok}) == 2
        for q in receiver.requests:
            assert verify(endpoint["secret"], q.headers, q.body)
            assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), q.headers,
                              q.body)
        events = {json.loads(q.body)["type"]: json.loads(q.body) for q in ok}
        assert events["order.paid"]["data"] == {"order_id": "o-1", "member_id": member.id,
                                                "amount": 10_000}
        assert events["member.created"]["data"] == {"member_id": member.id}
        assert set(events["order.paid"]) == {"type", "data", "timestamp"}
    log = await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries",
                           headers=merchant.headers)
    assert log.status_code == 200
    items = log.json()["items"]
    assert sorted((i["status"], i["attempts"]) for i in items) == [("delivered", 1),
                                                                   ("delivered", 2)]
    retried = next(i for i in items if i["attempts"] == 2)
    assert retried["last_status_code"] == 200 and retried["delivered_at"]
    other = await factory.merchant("Other")
    assert (await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries",
                             headers=other.headers)).status_code == 404


async def test_a_delivery_that_keeps_failing_is_retried_for_days_then_failed(
        client: httpx.AsyncClient, factory: Factory, allow_local: Services,
        clock: FrozenClock) -> None:
    services = allow_local
    merchant = await factory.merchant()
    async with serve(Receiver(always_fail=True)) as receiver:
        r = await _register(client, merchant, receiver.url, ["order.paid"])
        endpoint = r.json()
        member = await factory.member(merchant)
        await pay(client, member, "o-1", 100)
        ctx = {"services": services}
        start = clock.now()
        for _ in range(len(service.RETRY_DELAYS) + 3):
            await tasks.deliver_due(ctx)
            clock.advance(hours=25)
        assert len(receiver.requests) == len(service.RETRY_DELAYS) + 1
    log = await client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries",
                           headers=merchant.headers)
    item = log.json()["items"][0]
    assert (item["status"], item["attempts"], item["last_status_code"]) == (
        "failed", len(service.RETRY_DELAYS) + 1, 500)
    assert sum(service.RETRY_DELAYS, start - start).days >= 3


async def test_coupon_redeemed_and_refund_events(client: httpx.AsyncClient, factory: Factory,
                                                 allow_local: Services) -> None:
    merchant = await factory.merchant()
    template = await factory.template(merchant)
    reward = (await client.post("/api/v1/rewards", json={
        "coupon_template_id": template["id"], "cost_points": 10, "stock": 5},
        headers=merchant.headers)).json()
    member = await factory.member(merchant)
    async with serve(Receiver()) as receiver:
        r = await _register(client, merchant, receiver.url,
                            ["coupon.redeemed", "order.refunded"])
        assert r.status_code == 201
        await client.post(f"/api/v1/members/{member.id}/points",
                          json={"delta": 10, "reason": "gift"}, headers=merchant.headers)
        redeemed = await client.post(f"/api/v1/rewards/{reward['id']}/redemptions",
                                     headers=member.headers)
        code = redeemed.json()["coupon"]["code"]
        r = await client.post("/api/v1/orders", json={
            "id": "o-1", "member_id": member.id, "amount": 5_000, "coupon_codes": [code]},
            headers=merchant.headers)
        assert r.status_code == 201, r.text
        r = await client.post("/api/v1/orders/o-1/refunds", json={"amount": 1_000},
                              headers=merchant.headers)
        assert r.status_code == 201
        assert await tasks.deliver_due({"services": allow_local}) == 2
        bodies = sorted((json.loads(q.body) for q in receiver.requests),
                        key=lambda b: b["type"])
    assert [b["type"] for b in bodies] == ["coupon.redeemed", "order.refunded"]
    assert bodies[0]["data"] == {"code": code, "template_id": template["id"],
                                 "order_id": "o-1"}
    assert bodies[1]["data"]["amount"] == 1_000 and bodies[1]["data"]["paid"] == 5_000
