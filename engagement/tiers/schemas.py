from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40)
    min_points: int | None = Field(default=None, ge=0, le=1_000_000_000)
    min_spend: int | None = Field(default=None, ge=0, le=100_000_000_000)
    window_days: int = Field(gt=0, le=3650)
    monthly_coupon_template_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_threshold(self) -> TierIn:
        if (self.min_points is None) == (self.min_spend is None):
            raise ValueError("give exactly one of min_points and min_spend")
        return self


class TiersIn(BaseModel):
    """Tiers from the lowest to the highest: a member gets the highest one it qualifies for."""

    model_config = ConfigDict(extra="forbid")

    tiers: list[TierIn] = Field(max_length=20)

    @model_validator(mode="after")
    def _unique_names(self) -> TiersIn:
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError("tier names must be unique")
        return self


class TierOut(BaseModel):
    name: str
    min_points: int | None
    min_spend: int | None
    window_days: int
    monthly_coupon_template_id: str | None


class TiersOut(BaseModel):
    tiers: list[TierOut]
