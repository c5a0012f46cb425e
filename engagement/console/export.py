"""CSV exports, streamed: rows are read in keyset batches and written out as they come, so
memory stays flat for any size and no database connection waits on a slow download.

Files open cleanly in Excel (UTF-8 with a byte-order mark), show times in the merchant's
zone, money in yuan, and defuse cells that a spreadsheet would run as a formula (a member's
name is text anyone can type)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import asyncpg
from starlette.requests import Request
from starlette.responses import StreamingResponse

from engagement.kit import i18n
from engagement.kit.constants import EXPORT_BATCH_ROWS

BatchReader = Callable[[str | None, int], Awaitable[list[asyncpg.Record]]]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Yuan(int):
    """Cents to be written as yuan (12.34)."""


def cell(value: Any, zone: ZoneInfo) -> Any:
    if value is None:
        return ""
    if isinstance(value, Yuan):
        sign = "-" if value < 0 else ""
        return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _by_id(row: asyncpg.Record) -> str:
    return str(row["id"])


def csv_response(request: Request, *, filename: str, header: Sequence[str],
                 read_batch: BatchReader, to_row: Callable[[asyncpg.Record], Sequence[Any]],
                 time_zone: str,
                 cursor: Callable[[asyncpg.Record], str] = _by_id) -> StreamingResponse:
    """``header`` holds message ids (translated here, in the page's language); ``read_batch``
    returns up to n rows after a cursor, in cursor order (``cursor`` makes it from a row:
    its id by default)."""
    lines = _writer(time_zone)
    titles = _titles(request, header)

    async def body() -> AsyncIterator[str]:
        yield "\ufeff" + lines([titles])
        batch = EXPORT_BATCH_ROWS  # read at call time: tests shrink it to cross batches
        after: str | None = None
        while True:
            rows = await read_batch(after, batch)
            if rows:
                yield lines([to_row(r) for r in rows])
            if len(rows) < batch:
                return
            after = cursor(rows[-1])

    return _streamed(body(), filename)


def csv_table(request: Request, *, filename: str, header: Sequence[str],
              rows: Sequence[Sequence[Any]], time_zone: str) -> StreamingResponse:
    """A small table already in memory (a summary), in the same file format."""
    lines = _writer(time_zone)

    async def body() -> AsyncIterator[str]:
        yield "\ufeff" + lines([_titles(request, header), *rows])

    return _streamed(body(), filename)


def _titles(request: Request, header: Sequence[str]) -> list[str]:
    locale, _ = i18n.choose_locale(request)
    with i18n.use_locale(locale):
        return [i18n.gettext(h) for h in header]


def _writer(time_zone: str) -> Callable[[Sequence[Sequence[Any]]], str]:
    zone = ZoneInfo(time_zone)

    def lines(rows: Sequence[Sequence[Any]]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([cell(v, zone) for v in row] for row in rows)
        return buffer.getvalue()

    return lines


def _streamed(body: AsyncIterator[str], filename: str) -> StreamingResponse:
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": disposition, "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})

