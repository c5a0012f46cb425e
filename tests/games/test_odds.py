"""Invariant 5: published odds are honest. The pick runs in the draw script itself, called
here in pipelines (PostgreSQL is not what is under test, and 100,000 HTTP draws would not
fit in CI's time), with the provably fair r the service computes: from members' random
client seeds, or from the draws' ids where no client seed is sent."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime

import pytest
from scipy import stats as scipy_stats

from engagement.kit.ids import new_id
from engagement.kit.state import Services
from games.draw import fairness, hot_state
from games.draw.protocol import (
    CampaignKeys,
    DrawArgs,
    DrawKeys,
    Drawn,
    member_day_key,
    member_total_key,
    parse_draw_reply,
)
from games.draw.scripts import scripts_for
from tests.factories import Factory


async def _draw_many(services: Services, merchant_id: str, campaign_id: str,
                     n: int, client_seeds: bool = True) -> list[Drawn]:
    scripts = scripts_for(services)
    seed = fairness.new_seed()
    total_weight = (await fairness.reveal(services.pool, campaign_id)).total_weight
    now = services.clock.now()
    results: list[Drawn] = []
    batch = 2000
    for start in range(0, n, batch):
        async with services.redis.pipeline(transaction=False) as pipe:
            for i in range(start, min(n, start + batch)):
                # A fresh member per draw keeps the burst guard out of the way.
                keys = DrawKeys.of(campaign_id, f"m{i}", now.date(), None)
                draw_id = new_id("drw")
                client_seed, nonce = (secrets.token_hex(16), str(i)) if client_seeds \
                    else (draw_id, "")
                rand = fairness.pick(seed, client_seed, nonce, total_weight)
                await scripts.draw(keys=keys, args=[DrawArgs(
                    now_ms=int(now.timestamp() * 1000), rand=rand,
                    draw_id=draw_id, created_at=now.isoformat(), idempotent=False,
                    request_hash="-", campaign_id=campaign_id,
                    merchant_id=merchant_id).pack(), client_seed, nonce], client=pipe)
            for raw in await pipe.execute():
                reply = parse_draw_reply(raw)
                assert isinstance(reply, Drawn), reply
                results.append(reply)
    return results


async def _primed(factory: Factory, services: Services, prizes: list[dict[str, object]]
                  ) -> tuple[str, dict[str, object]]:
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, prizes)
    await hot_state.prime(services.pool, services.redis, scripts_for(services),
                          services.settings, campaign["id"], "Asia/Shanghai",
                          datetime.now(UTC))
    return shop.id, campaign


@pytest.mark.parametrize("client_seeds", [True, False], ids=["client-seeds", "draw-ids"])
async def test_hundred_thousand_draws_follow_the_weights(factory: Factory, services: Services,
                                                         client_seeds: bool) -> None:
    weights = [1, 2, 5, 12, 30, 50]
    prizes: list[dict[str, object]] = [
        {"name": f"{w} 积分", "kind": "points", "points": w, "quantity": None, "weight": w}
        for w in weights[:-1]]
    prizes.append({"name": "谢谢参与", "kind": "nothing", "weight": weights[-1]})
    merchant_id, campaign = await _primed(factory, services, prizes)
    ids = [p["id"] for p in campaign["prizes"]]  # type: ignore[index]
    n = 100_000
    results = await _draw_many(services, merchant_id, str(campaign["id"]), n, client_seeds)
    assert len(results) == n
    counts = dict.fromkeys(ids, 0)
    for r in results:
        body = json.loads(r.body)
        counts[body["segment_id"]] += 1
    observed = [counts[i] for i in ids]
    expected = [n * w / sum(weights) for w in weights]
    chi2 = scipy_stats.chisquare(observed, expected)
    assert chi2.pvalue > 0.001, (observed, expected, chi2)
    # The published probabilities are the same weights.
    assert [p["probability"] for p in campaign["prizes"]] == [  # type: ignore[index]
        round(w / sum(weights), 6) for w in weights]


async def test_a_prize_that_runs_out_does_not_raise_the_others_odds(
        factory: Factory, services: Services) -> None:
    merchant_id, campaign = await _primed(factory, services, [
        {"name": "大奖", "kind": "points", "points": 100, "quantity": 100, "weight": 1},
        {"name": "小奖", "kind": "points", "points": 1, "quantity": None, "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 2}])
    big, small, _ = (p["id"] for p in campaign["prizes"])  # type: ignore[attr-defined]
    n = 20_000
    results = await _draw_many(services, merchant_id, str(campaign["id"]), n)
    outcomes = [(r.outcome, r.prize_id) for r in results]
    assert sum(1 for o in outcomes if o == ("win", big)) == 100
    # After the big prize ran out, the small one still wins with its published 1/4.
    first_out = max(i for i, o in enumerate(outcomes) if o == ("win", big))
    after = outcomes[first_out + 1:]
    assert len(after) > 5000
    small_after = sum(1 for o in after if o == ("win", small))
    test = scipy_stats.binomtest(small_after, len(after), 0.25)
    assert test.pvalue > 0.001, (small_after, len(after))
    assert sum(1 for o in after if o[0] == "lose") == len(after) - small_after


def test_draw_keys_spell_the_member_keys_as_the_re_prime_writes_them() -> None:
    keys = DrawKeys.of("cmp_1", "mem_1", date(2026, 11, 23), "k1")
    c = CampaignKeys.of("cmp_1")
    assert (keys.meta, keys.wins, keys.qty, keys.stats) == (c.meta, c.wins, c.qty, c.stats)
    assert keys.day == member_day_key("cmp_1", "mem_1", date(2026, 11, 23))
    assert keys.total == member_total_key("cmp_1", "mem_1")
    assert len({k.split("}")[0] for k in keys}) == 1  # one hash tag: one slot
