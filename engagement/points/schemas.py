from __future__ import annotations

from datetime import datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator

from engagement.kit.fields import Cents, Days, Points, Text


class EarnRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_amount: Annotated[Cents, Ge(1), Le(100_000_000)] = Field(
        description="cents paid per earning step")
    points: Annotated[Points, Le(1_000_000)] = Field(description="points earned per step")


class PointValue(BaseModel):
    """What points are worth: ``points`` points are worth ``cents`` cents."""

    model_config = ConfigDict(extra="forbid")

    points: Annotated[Points, Ge(1), Le(1_000_000)]
    cents: Annotated[Cents, Le(100_000_000)]


class ProgramIn(BaseModel):
    """The whole program: a PUT replaces it, so every field of the contract is required (a
    missing one is a mistake to report, not a reset to defaults)."""

    model_config = ConfigDict(extra="forbid")

    earn: EarnRule
    join_bonus: Annotated[Points, Le(1_000_000)]
    expiry_days: Annotated[Days, Le(3650)] | None = Field(
        description="points expire this many days after they are earned; null: never")
    point_value: PointValue | None = Field(
        default=None, description="what points are worth (a points prize's face value, capped at "
                          "¥50,000 like any prize); null: not said, points prizes uncapped")

    @field_validator("earn")
    @classmethod
    def _at_most_a_point_per_cent(cls, earn: EarnRule) -> EarnRule:
        # Orders go up to fields.MAX_CENTS: at a million points per cent, a few of them
        # would push a balance past bigint. (Here, not on EarnRule: responses reuse it.)
        if earn.points > earn.per_amount:
            raise ValueError("at most one point per cent paid (points <= per_amount)")
        return earn


class ProgramOut(BaseModel):
    earn: EarnRule
    join_bonus: int
    expiry_days: int | None
    point_value: PointValue | None
    updated_at: datetime


class EntryOut(BaseModel):
    id: str
    delta: int
    reason: str
    created_at: datetime
    expires_at: datetime | None


class PointsPage(BaseModel):
    balance: int
    items: list[EntryOut]
    next_cursor: str | None


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: Annotated[int, Strict(), Ge(-100_000_000), Le(100_000_000)]
    reason: Annotated[str, Text(1, 120)]

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta must not be zero")
        return value


class AdjustmentOut(BaseModel):
    entry: EntryOut
    balance: int
