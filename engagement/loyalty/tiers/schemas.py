from __future__ import annotations

from typing import Annotated

from annotated_types import Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engagement.kit.fields import Cents, Days, Ident, Points, Text


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(1, 40)]
    min_points: Annotated[Points, Le(1_000_000_000)] | None = None
    min_spend: Annotated[Cents, Le(100_000_000_000)] | None = None
    window_days: Annotated[Days, Le(3650)]
    monthly_coupon_template_id: Ident | None = None

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
