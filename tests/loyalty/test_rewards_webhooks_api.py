"""What the console's pages needed from the API, added without changing what old clients
see: a reward on or off the shelf (PATCH /api/v1/rewards/{id}), the webhook endpoints'
list, and a retry of a failed delivery."""

from __future__ import annotations

import httpx
import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.loyalty.webhooks import service, tasks
from tests.factories import Factory
from tests.loyalty.helpers import adjust, pay
from tests.loyalty.receiver import Receiver, serve


async def test_a_reward_off_the_shelf_is_neither_listed_nor_redeemed_for_members(
        client: httpx.AsyncClient, factory: Factory) -> None:
    merchant = await factory.merchant()
    other = await factory.merchant("Other")
    template = await factory.template(merchant, name="满500减50")
    r = await client.post("/api/v1/rewards", json={"coupon_template_id": template["id"],
                                                   "cost_points": 10, "stock": 3},
                          headers=merchant.headers)
    reward = r.json()
    assert reward["active"] is True
    member = await factory.member(merchant)
    await adjust(client, member, 100)
    url = f"/api/v1/rewards/{reward['id']}"
    for body in ({"active": "no"}, {}, {"active": False, "stock": 9}):
        assert (await client.patch(url, json=body, headers=merchant.headers)).status_code \
            == 422, body
    assert (await client.patch(url, json={"active": False},
                               headers=other.headers)).status_code == 404
    r = await client.patch(url, json={"active": False}, headers=merchant.headers)
    assert r.status_code == 200 and r.json()["active"] is False
    listed = await client.get("/api/v1/rewards", headers=member.headers)
    assert listed.json()["items"] == []
    # An old client's list is what it was: rewards on the shelf only.
    assert (await client.get("/api/v1/rewards", headers=merchant.headers)).json()["items"] == []
    everything = await client.get("/api/v1/rewards?include_inactive=true",
                                  headers=merchant.headers)
    assert [i["id"] for i in everything.json()["items"]] == [reward["id"]]
    # A member asking for the hidden ones still sees only what is on the shelf.
    assert (await client.get("/api/v1/rewards?include_inactive=true",
                             headers=member.headers)).json()["items"] == []
    redeem = await client.post(f"{url}/redemptions", headers=member.headers)
    assert redeem.status_code == 404
    r = await client.patch(url, json={"active": True}, headers=merchant.headers)
    assert r.json()["active"] is True
    redeem = await client.post(f"{url}/redemptions", headers=member.headers)
    assert redeem.status_code == 201 and redeem.json()["points_spent"] == 10


@pytest.fixture
def allow_local(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={"webhooks_allow_private_targets": True})
    return services


async def test_a_failed_delivery_is_retried_once_by_hand(
        client: httpx.AsyncClient, factory: Factory, allow_local: Services,
        clock: FrozenClock) -> None:
    merchant = await factory.merchant()
    other = await factory.merchant("Other")
    ctx = {"services": allow_local}
    async with serve(Receiver(fail_first=len(service.RETRY_DELAYS) + 1)) as receiver:
        r = await client.post("/api/v1/webhooks", json={"url": receiver.url,
                                                        "events": ["order.paid"]},
                              headers=merchant.headers)
        endpoint = r.json()
        listed = (await client.get("/api/v1/webhooks", headers=merchant.headers)).json()
        assert [e["id"] for e in listed["items"]] == [endpoint["id"]]
        assert "secret" not in listed["items"][0]
        assert (await client.get("/api/v1/webhooks", headers=other.headers)).json() == \
            {"items": []}
        member = await factory.member(merchant)
        await pay(client, member, "o-1", 100)
        log_url = f"/api/v1/webhooks/{endpoint['id']}/deliveries"
        delivery = (await client.get(log_url, headers=merchant.headers)).json()["items"][0]
        retry = f"{log_url}/{delivery['id']}/retry"
        r = await client.post(retry, headers=merchant.headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "delivery_not_failed"
        for _ in range(len(service.RETRY_DELAYS) + 2):
            await tasks.deliver_due(ctx)
            clock.advance(hours=25)
        item = (await client.get(log_url, headers=merchant.headers)).json()["items"][0]
        assert item["status"] == "failed"
        assert (await client.get("/api/v1/webhooks", headers=merchant.headers)
                ).json()["items"][0]["failed"] == 1
        assert (await client.post(retry, headers=other.headers)).status_code == 404
        assert (await client.post(f"{log_url}/msg_NOPE/retry",
                                  headers=merchant.headers)).status_code == 404
        r = await client.post(retry, headers=merchant.headers)
        assert r.status_code == 200 and r.json()["status"] == "pending"
        await tasks.deliver_due(ctx)
        ids = {req.headers["webhook-id"] for req in receiver.requests}
        assert ids == {delivery["id"]}  # the same message, so the receiver can dedupe
    item = (await client.get(log_url, headers=merchant.headers)).json()["items"][0]
    assert (item["status"], item["attempts"]) == ("delivered", len(service.RETRY_DELAYS) + 2)
    r = await client.post(retry, headers=merchant.headers)
    assert r.status_code == 409
