"""Provably fair draws (API.md, "Provably fair draws").

At publish a campaign commits to a secret 32-byte server seed by publishing its SHA-256.
Each draw's pick is r = int(HMAC-SHA256(seed, f"{client_seed}:{nonce}").hex()[:16], 16)
mod the prizes' total weight, and the draw script takes the first prize whose running sum
of weights exceeds r. The client seed is the member's own (the game page sends a fresh
random one with each draw, with the draw's Idempotency-Key as the nonce) or, when none is
sent, the draw's id with an empty nonce. Once the campaign has ended the seed is revealed,
and anyone can recompute every draw from the draws' responses and the published weights.

Neither the merchant nor the service can steer a pick: the seed was fixed before the
member chose the client seed, and the member cannot steer it either, not knowing the seed.
The seed itself is held in PostgreSQL and, while a process draws, in its memory; never in
Redis, never in a response before the end."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NamedTuple

import asyncpg
from cachetools import LRUCache

from engagement.kit.errors import NotFound
from engagement.kit.state import Services
from games.draw import queries
from games.draw.schemas import FairnessReveal, FairPrize

SEED_BYTES = 32


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment_of(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def pick(seed: bytes, client_seed: str, nonce: str, total_weight: int) -> int:
    """The contract's r: below total_weight, so the script's own modulo leaves it as it is."""
    digest = hmac.new(seed, f"{client_seed}:{nonce}".encode(), hashlib.sha256).hexdigest()
    return int(digest[:16], 16) % total_weight


class Committed(NamedTuple):
    seed: bytes
    total_weight: int


class _Seeds(LRUCache[str, Committed]):
    """Campaigns' seeds and total weights, as this process has read them. Both are fixed
    once a campaign is published (odds are frozen while it runs), so they never go stale."""

    def __init__(self) -> None:
        super().__init__(maxsize=4096)


async def commit(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str) -> None:
    """Fix the campaign's seed (at publish; for a campaign published before fairness
    existed, at its next draw). A campaign already committed keeps its seed."""
    seed = new_seed()
    await queries.commit_seed(conn, campaign_id, seed, commitment_of(seed))


async def committed(svc: Services, campaign_id: str) -> Committed | None:
    """The seed and total weight the campaign's draws pick with; None for a draft (which
    cannot be drawn) or an unknown campaign."""
    seeds = svc.helper(_Seeds, _Seeds)
    found = seeds.get(campaign_id)
    if found is not None:
        return found
    row = await queries.fairness_of(svc.pool, campaign_id)
    if row is None or row["status"] == "draft" or not row["total_weight"]:
        return None
    if row["server_seed"] is None:
        await commit(svc.pool, campaign_id)
        row = await queries.fairness_of(svc.pool, campaign_id)
        assert row is not None and row["server_seed"] is not None
    found = seeds[campaign_id] = Committed(bytes(row["server_seed"]), int(row["total_weight"]))
    return found


async def reveal(conn: asyncpg.Connection | asyncpg.Pool, campaign_id: str) -> FairnessReveal:
    """The public record: the commitment and the weights from publish, and the seed once
    the campaign has ended (an ended campaign never draws again; before its end, a campaign
    can still be extended, so the seed stays secret until the status says ended)."""
    row = await queries.fairness_of(conn, campaign_id)
    if row is None or row["commitment"] is None:  # a draft has not committed to anything
        raise NotFound("No such campaign.")
    prizes = await queries.prizes(conn, campaign_id)
    revealed = row["status"] == "ended"
    return FairnessReveal(
        commitment=row["commitment"],
        server_seed=bytes(row["server_seed"]).hex() if revealed else None,
        prizes=[FairPrize(id=p["id"], name=p["name"], weight=p["weight"]) for p in prizes],
        total_weight=int(row["total_weight"]))
