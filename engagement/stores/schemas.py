from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from engagement.kit.fields import Name


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name


class StoreOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class StoreList(BaseModel):
    items: list[StoreOut]
    next_cursor: None = None
