from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from engagement.kit.fields import Name, Text


@dataclass(frozen=True)
class Merchant:
    id: str
    slug: str
    name: str
    currency: str
    time_zone: str
    settings: dict[str, Any]
    created_at: datetime


class MerchantCreate(BaseModel):
    name: Name
    slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    time_zone: Annotated[str, Text(1, 64)] = "Asia/Shanghai"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class MerchantCreated(BaseModel):
    id: str
    slug: str
    api_key: str
