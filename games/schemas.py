from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Game = Literal["wheel", "scratch", "egg"]
Status = Literal["draft", "active", "paused", "ended"]


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_member_per_day: int | None = Field(default=None, gt=0)
    per_member_total: int | None = Field(default=None, gt=0)


class CouponPrizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["coupon"]
    coupon_template_id: str
    quantity: int | None = Field(ge=0, description="null = unlimited (unlimited template only)")
    weight: int = Field(gt=0, le=1_000_000_000)


class PointsPrizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["points"]
    points: int = Field(gt=0, le=10_000_000)
    quantity: int | None = Field(ge=0, description="null = unlimited")
    weight: int = Field(gt=0, le=1_000_000_000)


class NothingPrizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="谢谢参与", min_length=1, max_length=60)
    kind: Literal["nothing"]
    weight: int = Field(gt=0, le=1_000_000_000)


PrizeIn = Annotated[CouponPrizeIn | PointsPrizeIn | NothingPrizeIn, Field(discriminator="kind")]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    game: Game
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    limits: Limits = Field(default_factory=Limits)
    entry_cost_points: int = Field(default=0, ge=0, le=10_000_000)
    rules: str = Field(default="", max_length=4000)
    prizes: list[PrizeIn] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _window(self) -> CampaignCreate:
        for when in (self.starts_at, self.ends_at):
            if when is not None and when.tzinfo is None:
                raise ValueError("times need a zone, e.g. 2026-12-01T00:00:00+08:00")
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PrizeChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    quantity: int | None = Field(default=None, ge=0)
    weight: int | None = Field(default=None, gt=0, le=1_000_000_000)
    name: str | None = Field(default=None, min_length=1, max_length=60)


class CampaignUpdate(BaseModel):
    """Drafts change freely; live campaigns may only add quantity, rename, extend the end."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    ends_at: datetime | None = None
    rules: str | None = Field(default=None, max_length=4000)
    prizes: list[PrizeChange] = Field(default_factory=list, max_length=12)


class PrizeOut(BaseModel):
    id: str
    name: str
    kind: Literal["coupon", "points", "nothing"]
    coupon_template_id: str | None
    points: int | None
    quantity: int | None
    remaining: int | None
    weight: int
    probability: float


class CampaignOut(BaseModel):
    id: str
    name: str
    status: Status
    game: Game
    starts_at: datetime | None
    ends_at: datetime | None
    limits: Limits
    entry_cost_points: int
    rules: str
    play_url: str
    prizes: list[PrizeOut]
    created_at: datetime
    published_at: datetime | None
    ended_at: datetime | None


class StatsOut(BaseModel):
    draws: int
    players: int
    wins: dict[str, int]
    coupons_issued: int
    coupons_redeemed: int
    unsettled: int


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
    created_at: datetime


class DrawPage(BaseModel):
    items: list[DrawOut]
    next_cursor: str | None
