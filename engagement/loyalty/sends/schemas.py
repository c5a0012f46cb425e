from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, model_validator

from engagement.kit.fields import Days, Ident, Name, Percent, PositiveInt4, Text, Timestamp

# Birthday coupons go out at most a month ahead: later than that they read as a mistake.
MAX_BIRTHDAY_DAYS_AHEAD = 30


class Segment(BaseModel):
    """Members matching every condition given (none given: every member)."""

    model_config = ConfigDict(extra="forbid")

    min_orders: Annotated[PositiveInt4, Le(10_000)] | None = None
    orders_within_days: Annotated[Days, Le(3650)] | None = Field(
        default=None, description="the window min_orders counts in")
    inactive_days: Annotated[Days, Le(3650)] | None = Field(
        default=None, description="no order in this many days")
    birthday: Literal["today", "this_week"] | None = None
    birthday_days_ahead: Annotated[int, Strict(), Ge(0), Le(MAX_BIRTHDAY_DAYS_AHEAD)] | None = \
        Field(default=None, description="with birthday: the birthdays this many days from "
                                        "today (a coupon sent ahead of the day)")
    birthday_once_a_year: StrictBool | None = Field(
        default=None, description="with birthday: each member gets it once per birthday, "
                                  "whatever runs of a daily send match them again")
    tier: Annotated[str, Text(1, 40)] | None = None
    holding_unredeemed: StrictBool | None = Field(
        default=None, description="holds (true) or not (false) an unused, unexpired coupon")

    @model_validator(mode="after")
    def _window_needs_count(self) -> Segment:
        if self.orders_within_days is not None and self.min_orders is None:
            raise ValueError("orders_within_days needs min_orders")
        if self.birthday is None and (self.birthday_days_ahead is not None
                                      or self.birthday_once_a_year is not None):
            raise ValueError("birthday_days_ahead and birthday_once_a_year need birthday")
        return self


class SendCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    coupon_template_id: Ident
    segment: Segment = Field(default_factory=Segment)
    holdout_percent: Annotated[Percent, Le(90)] = 10
    repeat: Literal["daily"] | None = Field(
        default=None, description="daily: run every day by cron (birthday sends)")
    scheduled_at: Timestamp | None = Field(
        default=None, description="a future time to send at (status scheduled until then); "
        "left out: at once")

    @model_validator(mode="after")
    def _once_or_daily(self) -> SendCreate:
        if self.scheduled_at is not None and self.repeat is not None:
            raise ValueError("scheduled_at is for a one-off send, not with repeat")
        return self


class AudienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment: Segment = Field(default_factory=Segment)


class AudienceOut(BaseModel):
    count: int = Field(description="members the segment matches now (a send's targeted, "
                       "holdout included)")


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
    scheduled_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BirthdayAutomationIn(BaseModel):
    """Birthday coupons (生日礼): the whole setting; a PUT replaces it."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    coupon_template_id: Ident | None = Field(
        default=None, description="the coupon each member gets; needed to turn it on")
    days_before: Annotated[int, Strict(), Ge(0), Le(MAX_BIRTHDAY_DAYS_AHEAD)] = Field(
        default=0, description="how many days before the birthday it is sent (0: on the day)")

    @model_validator(mode="after")
    def _template_to_enable(self) -> BirthdayAutomationIn:
        if self.enabled and self.coupon_template_id is None:
            raise ValueError("coupon_template_id is needed to turn birthday coupons on")
        return self


class BirthdayAutomationOut(BaseModel):
    enabled: bool
    coupon_template_id: str | None
    days_before: int
    send_id: str | None = Field(description="the daily send behind it: GET /api/v1/sends/{id} "
                                            "shows what it has issued")
    updated_at: datetime | None
