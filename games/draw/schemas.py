"""What a draw answers: the body the draw script builds (games/draw/lua/draw.lua), and a
member's list of them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class DrawPrize(BaseModel):
    id: str
    name: str
    kind: Literal["coupon", "points"]


class Remaining(BaseModel):
    today: int | None
    total: int | None


class DrawOut(BaseModel):
    id: str
    campaign_id: str
    outcome: Literal["win", "lose"]
    prize: DrawPrize | None
    segment_id: str | None = Field(description="the prize segment the game lands on")
    remaining: Remaining
    extra: bool = Field(False, description="the draw spent an earned chance (beyond the limits)")
    created_at: datetime


class DrawPage(BaseModel):
    items: list[DrawOut]
    next_cursor: str | None
