from __future__ import annotations

from datetime import date as LocalDate
from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from engagement.kit.fields import Count, Points

# A program lists at most a month of streak days (the CHECK check_in_rewards_day_range
# holds PostgreSQL to it too); after its last day the cycle starts again at day 1.
MAX_DAYS = 31
# One day's reward: generous, but a typo of a few zeros is refused.
MAX_POINTS_PER_DAY = 1_000_000
MAX_DRAWS_PER_DAY = 100

class RewardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: Annotated[Count, Ge(1), Le(MAX_DAYS)] = Field(description="streak day, 1..N")
    points: Annotated[Points, Le(MAX_POINTS_PER_DAY)] = Field(
        default=0, description="points credited on this streak day")
    draws: Annotated[Count, Le(MAX_DRAWS_PER_DAY)] = Field(
        default=0, description="extra draws this streak day gives in campaigns that grant "
                               "draws per check-in")


class ProgramIn(BaseModel):
    """The whole program: a PUT replaces it, so ``enabled`` and ``rewards`` are required
    (a missing one is a 422, never a reset). ``rewards`` lists streak days 1..N, each once;
    after day N the cycle starts again at day 1 while the streak keeps counting."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    rewards: list[RewardIn] = Field(max_length=MAX_DAYS)

    @model_validator(mode="after")
    def _days_one_to_n(self) -> ProgramIn:
        days = sorted(r.day for r in self.rewards)
        if days != list(range(1, len(days) + 1)):
            raise ValueError("reward days must be 1 to N, each once")
        if self.enabled and not days:
            raise ValueError("an enabled program needs a reward for day 1 at least")
        return self


class Reward(BaseModel):
    day: int
    points: int
    draws: int


class ProgramOut(BaseModel):
    enabled: bool
    rewards: list[Reward] = Field(description="by streak day; after the last day the cycle "
                                              "starts again at day 1")
    updated_at: datetime | None = Field(description="null: never set (check-in is off)")


class CheckInOut(BaseModel):
    id: str
    date: LocalDate = Field(description="the merchant's local date")
    streak: int = Field(description="consecutive days checked in, today included")
    reward: Reward
    created_at: datetime


StripState = Literal["done", "today", "upcoming"]


class StripDay(BaseModel):
    """One cell of the calendar strip: a day of the current cycle."""

    date: LocalDate
    day: int = Field(description="the streak day of the cycle this date falls on")
    points: int
    draws: int
    state: StripState
    checked_in: bool


# Fields named ``date`` hold a LocalDate: the merchant's local date, as in hooks.CheckedIn.day.
class PastCheckIn(BaseModel):
    date: LocalDate
    streak: int
    points: int
    draws: int


class StatusOut(BaseModel):
    enabled: bool
    today: LocalDate = Field(description="the merchant's local date")
    checked_in_today: bool
    streak: int = Field(description="consecutive days up to today, or up to yesterday while "
                                    "today is still open; 0 once a day was missed")
    today_reward: Reward | None = Field(description="what today's check-in gives (or gave)")
    next_reward: Reward | None = Field(description="what tomorrow's gives if the streak holds")
    strip: list[StripDay] = Field(description="the cycle's days around today, at most 7")
    recent: list[PastCheckIn] = Field(description="the latest check-ins, newest first")
