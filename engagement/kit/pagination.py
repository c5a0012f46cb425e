from __future__ import annotations

from pydantic import BaseModel, Field


class PageQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=200)
    # A cursor is an id handed out as next_cursor (engagement/kit/ids.py): checked for that shape
    # here, so anything else is a 422 on `cursor` and never reaches a query.
    cursor: str | None = Field(default=None, max_length=64, pattern=r"^[a-z]+_[0-9A-Z]+$")


def next_cursor(ids: list[str], limit: int) -> str | None:
    """Lists are ordered by time-ordered id; the cursor is the last id of a full page."""
    return ids[-1] if len(ids) == limit else None
