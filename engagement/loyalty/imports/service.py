"""Member imports (老会员导入): a merchant's members from its old system, from a CSV file.

The upload reads the whole file as CSV (a bad header is a 422 before anything is stored),
keeps it and queues the job; the job applies it in batches of BATCH_ROWS rows, each one transaction
that also moves the import's counters and ``processed``, so a retried job resumes where the
last commit left it and every row is counted once.

A row keyed by an external_id that is not a member yet creates one; an existing member gets
the row's non-empty cells (updated) or is left as it is (unchanged). Empty cells never
clear anything. Opening points (``points``) are credited once per member, as a ledger entry
with reason ``import`` and ref ``import:<member id>``: the ledger's unique ref refuses a
second one, so the same file again, or two runs of it at once, credit nothing more.

Imported members are not new sign-ups: no MemberCreated event fires for them, so no join
bonus, referral binding, guest-order claim or member.created webhook follows an import."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.kit.errors import NotFound, UnsupportedMediaType
from engagement.kit.ids import new_id
from engagement.kit.jobs import Unit
from engagement.loyalty.imports import csvfile, queries
from engagement.loyalty.imports.csvfile import COLUMNS, Parsed, Row
from engagement.loyalty.imports.schemas import (
    ImportOut,
    ImportQueued,
    PreviewOut,
    PreviewRow,
    RowError,
)
from engagement.points import service as points

BATCH_ROWS = 5_000  # rows per transaction: a few round trips each, short enough to retry
PREVIEW_ROWS = 20
MEDIA_TYPES = ("text/csv", "application/csv", "text/plain")

# The job that applies an import (imports/tasks.py ``run``): its name is spelled here only.
RUN_JOB = "imports.run"


def run_job(unit: Unit, import_id: str) -> None:
    unit.defer(RUN_JOB, import_id, job_id=f"{RUN_JOB}:{import_id}")


def require_csv(content_type: str | None) -> None:
    media = (content_type or "").partition(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise UnsupportedMediaType("The body must be the CSV file, sent with Content-Type: "
                                   "text/csv.", content_type=content_type or "")


async def create_import(unit: Unit, merchant_id: str, body: bytes, filename: str | None,
                        now: datetime) -> ImportQueued:
    rows = csvfile.count_rows(body)  # FileProblem (422) before anything is written
    import_id = new_id("imp")
    await queries.insert_import(unit.conn, id=import_id, merchant_id=merchant_id,
                                filename=(filename or "")[:200] or None, body=body,
                                rows=rows, now=now)
    run_job(unit, import_id)
    return ImportQueued(id=import_id, rows=rows)


def _errors(rows: list[asyncpg.Record]) -> list[RowError]:
    return [RowError(row=r["row_no"], code=r["code"], message=csvfile.row_message(r["code"]))
            for r in rows]


async def get_import(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                     import_id: str, *, error_limit: int | None = None) -> ImportOut:
    row = await queries.import_by_id(conn, merchant_id, import_id)
    if row is None:
        raise NotFound("No such member import.")
    errors = await queries.errors_of(conn, import_id, error_limit)
    return ImportOut(**dict(row), errors=_errors(errors))


async def check_rows(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                     rows: list[Row]) -> list[Row]:
    """What the file cannot tell alone, read from the merchant's data without writing:
    tiers by name, and phones that another member has."""
    good = [r for r in rows if r.problem is None]
    tiers = await queries.tier_names(conn, merchant_id) \
        if any(r.tier is not None for r in good) else set()
    holders = await queries.phone_holders(conn, merchant_id,
                                          [r.phone for r in good if r.phone is not None])
    out = []
    for r in rows:
        if r.problem is None and r.tier is not None and r.tier not in tiers:
            r = csvfile.failed(r, "unknown_tier")
        elif r.problem is None and r.phone is not None \
                and holders.get(r.phone, r.external_id) != r.external_id:
            r = csvfile.failed(r, "phone_taken")
        out.append(r)
    return out


async def preview(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                  body: bytes) -> PreviewOut:
    """What importing ``body`` would do, and each row's problem; writes nothing."""
    parsed = csvfile.parse(body)
    rows = await check_rows(conn, merchant_id, parsed.rows)
    good = [r.external_id for r in rows if r.problem is None]
    existing = len(await queries.existing_members(conn, merchant_id, good))
    errors = [RowError(row=r.number, code=r.problem, message=csvfile.row_message(r.problem))
              for r in rows if r.problem is not None]
    return PreviewOut(columns=list(parsed.columns), rows=len(rows), new=len(good) - existing,
                      existing=existing, failed=len(errors), errors=errors,
                      sample=[_sample(parsed, r) for r in rows[:PREVIEW_ROWS]])


def _sample(parsed: Parsed, row: Row) -> PreviewRow:
    cells = dict(zip(parsed.columns, row.cells, strict=False))
    return PreviewRow(row=row.number, cells={c: cells.get(c, "") for c in COLUMNS
                                             if c in parsed.columns},
                      code=row.problem,
                      message=csvfile.row_message(row.problem) if row.problem else None)


async def apply_batch(conn: asyncpg.Connection, import_id: str, parsed: Parsed,
                      now: datetime) -> bool:
    """The import's next batch, in the caller's transaction; False when there was none
    left (the import is then marked done)."""
    imp = await queries.lock_import(conn, import_id)
    if imp is None or imp["status"] == "done":
        return False
    start = imp["processed"]
    batch = parsed.rows[start:start + BATCH_ROWS]
    if not batch:
        await queries.finish(conn, import_id, now)
        return False
    merchant_id = imp["merchant_id"]
    checked = await check_rows(conn, merchant_id, batch)
    errors = [(r.number, r.problem) for r in checked if r.problem is not None]
    good = [r for r in checked if r.problem is None]
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    if good:
        await queries.stage(conn, [
            (r.number, r.external_id, r.phone, r.name, r.birthday, r.points, r.tier,
             new_id("mbr"), new_id("pts")) for r in good])
        expires_at = await points.earned_expiry(conn, merchant_id, now)
        for outcome in await queries.apply_staged(conn, merchant_id, now, expires_at):
            if outcome["outcome"] == "phone_taken":  # taken by another run meanwhile
                errors.append((outcome["row_no"], "phone_taken"))
            else:
                counts[outcome["outcome"]] += 1
    await queries.record_batch(conn, import_id, processed=start + len(batch),
                               errors=sorted(errors), now=now, **counts)
    return True
