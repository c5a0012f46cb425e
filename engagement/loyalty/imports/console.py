"""The console's member import (导入会员, owner and manager): pick a CSV file, see its first
rows and every row's problem before anything is written (the preview reads the file and the
merchant's data, and writes nothing), import it, watch its progress, read the result, and
download the failed rows as CSV in words. The page and ``POST /api/v1/member-imports`` go
through the same service, so they read a file the same way."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engagement.console.export import csv_table
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, render_page
from engagement.kit import i18n
from engagement.kit.constants import BODY_LIMITS_BY_PREFIX
from engagement.kit.domain import NavItem
from engagement.kit.errors import AppError, UnsupportedMediaType
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.kit.web import render
from engagement.loyalty.imports import csvfile, queries, service
from engagement.loyalty.imports.csvfile import COLUMNS, FileProblem

PATH = "/console/imports"
NAV = NavItem("imports", PATH, N_("导入会员"), order=32)  # owner and manager, like MANAGERS
RECENT = 20
ERRORS_SHOWN = 100
MAX_BYTES = BODY_LIMITS_BY_PREFIX[PATH]
SAMPLE = [("external_id", "phone", "name", "birthday", "points", "tier"),
          ("OLD-0001", "13800138000", "王小明", "1990-05-20", "120", ""),
          ("OLD-0002", "13900139000", "李华", "", "0", "")]
STATUS_WORDS = {"queued": N_("排队中"), "running": N_("导入中"), "done": N_("已完成")}
COLUMN_WORDS = {"external_id": N_("会员编号"), "phone": N_("手机号"), "name": N_("姓名"),
                "birthday": N_("会员生日"), "points": N_("积分"), "tier": N_("等级")}


def _context(**extra: Any) -> dict[str, Any]:
    return {"status_words": STATUS_WORDS, "column_words": COLUMN_WORDS,
            "row_words": csvfile.row_words, "columns": COLUMNS, **extra}


async def page(request: Request, user: ConsoleUser) -> Response:
    imports = await queries.recent_imports(services(request).pool, user.merchant.id, RECENT)
    return render_page(request, user, "console/imports.html",
                       _context(imports=imports, max_mib=MAX_BYTES // (1024 * 1024)),
                       active="imports")


async def sample(request: Request, user: ConsoleUser) -> Response:
    return csv_table(request, filename="members-sample.csv", header=SAMPLE[0],
                     rows=SAMPLE[1:], time_zone=user.merchant.time_zone)


def _file_problem(request: Request, exc: AppError, status: int) -> Response:
    words = exc.words if isinstance(exc, FileProblem) else N_(
        "请上传 CSV 文件（.csv），不要上传 Excel 表格（.xlsx）")
    args = exc.word_args if isinstance(exc, FileProblem) else {}
    return render(request, "console/_import_problem.html",
                  {"code": exc.code, "words": words, "args": args}, status=status)


async def _csv_body(request: Request) -> bytes:
    service.require_csv(request.headers.get("content-type"))
    return await request.body()  # at most MAX_BYTES (BODY_LIMITS_BY_PREFIX)


async def preview(request: Request, user: ConsoleUser) -> Response:
    """An HTML fragment: the file's first rows with their problems, and the counts."""
    try:
        body = await _csv_body(request)
        result = await service.preview(services(request).pool, user.merchant.id, body)
    except (FileProblem, UnsupportedMediaType) as exc:
        return _file_problem(request, exc, exc.status)
    return render(request, "console/_import_preview.html", _context(
        preview=result, shown_errors=result.errors[:ERRORS_SHOWN],
        filename=request.query_params.get("filename", "")))


async def start(request: Request, user: ConsoleUser) -> Response:
    """Creates the import: JSON with the page that follows it."""
    svc = services(request)
    try:
        body = await _csv_body(request)
        async with svc.unit() as unit:
            queued = await service.create_import(unit, user.merchant.id, body,
                                                 request.query_params.get("filename"),
                                                 svc.clock.now())
    except (FileProblem, UnsupportedMediaType) as exc:
        return _file_problem(request, exc, exc.status)
    return JSONResponse({"id": queued.id, "url": f"{PATH}/{queued.id}"}, status_code=202)


async def detail(request: Request, user: ConsoleUser) -> Response:
    result = await service.get_import(services(request).pool, user.merchant.id,
                                      request.path_params["import_id"],
                                      error_limit=ERRORS_SHOWN)
    return render_page(request, user, "console/import.html",
                       _context(imp=result, errors_shown=ERRORS_SHOWN), active="imports")


async def progress(request: Request, user: ConsoleUser) -> Response:
    """The status card alone, polled by the page while the import runs."""
    result = await service.get_import(services(request).pool, user.merchant.id,
                                      request.path_params["import_id"], error_limit=0)
    return render(request, "console/_import_progress.html", _context(imp=result))


async def errors_csv(request: Request, user: ConsoleUser) -> Response:
    result = await service.get_import(services(request).pool, user.merchant.id,
                                      request.path_params["import_id"])
    locale, _ = i18n.choose_locale(request)
    with i18n.use_locale(locale):
        rows = [(e.row, e.code, i18n.gettext(csvfile.row_words(e.code)))
                for e in result.errors]
    return csv_table(request, filename=f"import-{result.id}-errors.csv",
                     header=(N_("行号"), N_("错误代码"), N_("问题")), rows=rows,
                     time_zone=user.merchant.time_zone)


routes = [
    page_route(PATH, page, allow=MANAGERS),
    page_route(f"{PATH}/sample.csv", sample, allow=MANAGERS),
    page_route(f"{PATH}/preview", preview, methods=("POST",), allow=MANAGERS),
    page_route(PATH, start, methods=("POST",), allow=MANAGERS),
    page_route(f"{PATH}/{{import_id}}", detail, allow=MANAGERS),
    page_route(f"{PATH}/{{import_id}}/progress", progress, allow=MANAGERS),
    page_route(f"{PATH}/{{import_id}}/errors.csv", errors_csv, allow=MANAGERS),
]
