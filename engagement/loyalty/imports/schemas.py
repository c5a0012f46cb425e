"""What the member-import endpoints answer (their request body is the CSV file itself)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ImportQueued(BaseModel):
    id: str
    status: Literal["queued"] = "queued"
    rows: int = Field(description="data rows in the file (the header is not counted)")


class RowError(BaseModel):
    row: int = Field(description="the row's number in the file; the header is row 1")
    code: str
    message: str


class ImportOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done"]
    filename: str | None
    rows: int
    processed: int = Field(description="rows done so far (for a progress bar)")
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[RowError]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class PreviewRow(BaseModel):
    row: int
    cells: dict[str, str]
    code: str | None
    message: str | None


class PreviewOut(BaseModel):
    """What importing the file would do, read without writing anything."""

    columns: list[str]
    rows: int
    new: int = Field(description="good rows whose external_id is not a member yet")
    existing: int = Field(description="good rows of members who exist (updated or unchanged)")
    failed: int
    errors: list[RowError]
    sample: list[PreviewRow] = Field(description="the file's first rows, with their problem")
