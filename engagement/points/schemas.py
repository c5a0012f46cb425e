from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EarnRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_amount: int = Field(gt=0, le=100_000_000, description="cents paid per earning step")
    points: int = Field(ge=0, le=1_000_000, description="points earned per step")


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    earn: EarnRule
    join_bonus: int = Field(default=0, ge=0, le=1_000_000)
    expiry_days: int | None = Field(default=None, gt=0, le=3650)


class ProgramOut(BaseModel):
    earn: EarnRule
    join_bonus: int
    expiry_days: int | None
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

    delta: int = Field(ge=-100_000_000, le=100_000_000)
    reason: str = Field(min_length=1, max_length=120)

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta must not be zero")
        return value


class AdjustmentOut(BaseModel):
    entry: EntryOut
    balance: int
