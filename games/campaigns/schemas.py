from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engagement.kit.fields import Ident, Name, Points, PositiveInt4, Stock, Text, Timestamp

Game = Literal["wheel", "scratch", "egg", "grid", "slot", "shake"]
Status = Literal["draft", "active", "paused", "ended"]


# A prize's name sits on a wheel segment, a grid cell or a reel: short.
PrizeName = Annotated[str, Text(1, 60)]
# Weights of up to 12 prizes sum well inside the 2**53 that the draw script's numbers hold.
Weight = Annotated[PositiveInt4, Le(1_000_000_000)]
Rules = Annotated[str, Text(0, 4000, multiline=True)]


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_member_per_day: PositiveInt4 | None = None
    per_member_total: PositiveInt4 | None = None


# Extra draws one event earns: a handful, not a way round the limits.
ChanceCount = Annotated[int, Ge(1), Le(100)]


class Chances(BaseModel):
    """Earned chances: extra draws beyond the limits, for each order the member pays, each
    check-in, each friend who joins through the member's share link."""

    model_config = ConfigDict(extra="forbid")
    per_order: ChanceCount | None = None
    per_check_in: ChanceCount | None = None
    per_invite: ChanceCount | None = None


PityAfter = Annotated[int, Ge(1), Le(1000)]


class PityIn(BaseModel):
    """保底: after ``after`` loses in a row a member's next draw wins the prize at
    ``prize_index`` (its position in ``prizes``) while it has stock."""

    model_config = ConfigDict(extra="forbid")
    after: PityAfter
    prize_index: Annotated[int, Ge(0), Le(11)]


class Pity(BaseModel):
    """保底 as the campaign resource shows it, and as a draft's PATCH changes it."""

    model_config = ConfigDict(extra="forbid")
    after: PityAfter
    prize_id: Ident


class FairnessOut(BaseModel):
    commitment: str | None = Field(
        description="hex SHA-256 of the campaign's secret server seed, fixed at publish "
                    "(null for a draft)")


class CouponPrizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: PrizeName
    kind: Literal["coupon"]
    coupon_template_id: Ident
    quantity: Stock | None = Field(description="null = unlimited (unlimited template only)")
    weight: Weight


class PointsPrizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: PrizeName
    kind: Literal["points"]
    points: Annotated[Points, Ge(1), Le(10_000_000)]
    quantity: Stock | None = Field(description="null = unlimited")
    weight: Weight


class NothingPrizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: PrizeName = "谢谢参与"
    kind: Literal["nothing"]
    weight: Weight


PrizeIn = Annotated[CouponPrizeIn | PointsPrizeIn | NothingPrizeIn, Field(discriminator="kind")]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    game: Game
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    limits: Limits = Field(default_factory=Limits)
    chances: Chances = Field(default_factory=Chances)
    pity: PityIn | None = None
    entry_cost_points: Annotated[Points, Le(10_000_000)] = 0
    rules: Rules = ""
    prizes: list[PrizeIn] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _window(self) -> CampaignCreate:
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PrizeChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Ident
    quantity: Stock | None = None
    weight: Weight | None = None
    name: PrizeName | None = None


class CampaignUpdate(BaseModel):
    """Drafts change freely; live campaigns may only add quantity, rename, extend the end."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    ends_at: Timestamp | None = None
    rules: Rules | None = None
    limits: Limits | None = None
    chances: Chances | None = None
    pity: Pity | None = None
    remove_pity: bool = Field(False, description="a draft drops its pity (保底)")
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
    chances: Chances
    pity: Pity | None
    fairness: FairnessOut
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
