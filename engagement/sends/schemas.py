from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Segment(BaseModel):
    """Members matching every condition given (none given: every member)."""

    model_config = ConfigDict(extra="forbid")

    min_orders: int | None = Field(default=None, ge=1, le=10_000)
    orders_within_days: int | None = Field(default=None, ge=1, le=3650,
                                           description="the window min_orders counts in")
    inactive_days: int | None = Field(default=None, ge=1, le=3650,
                                      description="no order in this many days")
    birthday: Literal["today", "this_week"] | None = None
    tier: str | None = Field(default=None, min_length=1, max_length=40)
    holding_unredeemed: bool | None = Field(
        default=None, description="holds (true) or not (false) an unused, unexpired coupon")

    @model_validator(mode="after")
    def _window_needs_count(self) -> Segment:
        if self.orders_within_days is not None and self.min_orders is None:
            raise ValueError("orders_within_days needs min_orders")
        return self


class SendCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    coupon_template_id: str = Field(min_length=1, max_length=64)
    segment: Segment = Field(default_factory=Segment)
    holdout_percent: int = Field(default=10, ge=0, le=90)
    repeat: Literal["daily"] | None = Field(
        default=None, description="daily: run every day by cron (birthday sends)")


class SendQueued(BaseModel):
    id: str
    status: Literal["scheduled", "queued"]


class RepurchaseRate(BaseModel):
    treated: float | None
    holdout: float | None


class SendOut(BaseModel):
    id: str
    name: str
    coupon_template_id: str
    segment: Segment
    holdout_percent: int
    repeat: Literal["daily"] | None
    status: Literal["scheduled", "queued", "running", "done", "failed"]
    error: str | None
    targeted: int
    treated: int
    held_out: int
    issued: int
    redeemed: int
    repurchase_rate: RepurchaseRate
    lift: float | None = Field(description="treated minus holdout repurchase rate")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
