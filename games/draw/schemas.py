"""What a draw answers: the body the draw script builds (games/draw/lua/draw.lua), and a
member's list of them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class DrawIn(BaseModel):
    """A draw's optional body. The draw endpoint reads it itself (games/draw/routes.py);
    this model documents it."""

    client_seed: str | None = Field(
        None, min_length=1, max_length=64,
        description="a fresh random text the member's device chose (the game page sends "
                    "one with each draw); needs an Idempotency-Key, the nonce")


class DrawPrize(BaseModel):
    id: str
    name: str
    kind: Literal["coupon", "points"]


class Remaining(BaseModel):
    today: int | None
    total: int | None


class DrawFairness(BaseModel):
    client_seed: str = Field(description="the member's client seed, or the draw's id")
    nonce: str = Field(description="the Idempotency-Key with a client seed, else empty")


class DrawOut(BaseModel):
    id: str
    campaign_id: str
    outcome: Literal["win", "lose"]
    prize: DrawPrize | None
    segment_id: str | None = Field(description="the prize segment the game lands on")
    remaining: Remaining
    extra: bool = Field(False, description="the draw spent an earned chance (beyond the limits)")
    pity: bool = Field(False, description="a pity win (保底), after the campaign's run of loses")
    fairness: DrawFairness | None = Field(
        None, description="what the pick was made with (null for draws made before fairness)")
    created_at: datetime


class DrawPage(BaseModel):
    items: list[DrawOut]
    next_cursor: str | None


class FairPrize(BaseModel):
    id: str
    name: str
    weight: int


class FairnessReveal(BaseModel):
    """What anyone needs to recompute a campaign's draws (games/draw/fairness.py)."""

    commitment: str = Field(description="hex SHA-256 of the server seed, fixed at publish")
    server_seed: str | None = Field(description="hex of the seed; null until the campaign "
                                                "has ended")
    prizes: list[FairPrize] = Field(description="in the order the pick walks them")
    total_weight: int
