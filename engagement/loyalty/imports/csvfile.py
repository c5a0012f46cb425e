"""Reading a member file (老会员导入): UTF-8 CSV, with or without a byte-order mark, a header
row, then one member per row. Pure Python and deterministic: the upload, the preview and
the import job read a file the same way, so the rows a preview flags are the rows the
import fails, numbered alike (the header is row 1).

A problem of the whole file (not UTF-8, no external_id column, an unknown column) is a
``FileProblem`` (422); a problem of one row fails that row alone with a code."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from engagement.kit.errors import InvalidInput
from engagement.kit.fields import MAX_POINTS, birthday_in_range, forbidden_character
from engagement.kit.fields import normalise_phone as normalise_mobile
from engagement.kit.i18n import N_

COLUMNS = ("external_id", "phone", "name", "birthday", "points", "tier")
# Headers as a Chinese spreadsheet names them, read as the contract's column names.
ALIASES = {"会员编号": "external_id", "外部编号": "external_id", "编号": "external_id",
           "手机号": "phone", "手机": "phone", "姓名": "name", "名字": "name",
           "生日": "birthday", "积分": "points", "等级": "tier", "会员等级": "tier"}
MAX_EXTERNAL_ID, MAX_NAME, MAX_TIER = 128, 120, 120
_PHONE = re.compile(r"^\+?[0-9]{6,20}$")  # the members API's own pattern
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

# Every row code, with what it means: in English for the API, as a message id (zh-CN) for
# the console and its CSV of errors.
ROW_CODES: dict[str, tuple[str, str]] = {
    "wrong_column_count": ("The row does not have as many columns as the header.",
                           N_("这一行的列数和表头不一致")),
    "missing_external_id": ("external_id is empty.", N_("会员编号（external_id）为空")),
    "invalid_external_id": ("external_id is longer than 128 characters or holds control "
                            "characters.", N_("会员编号超过 128 个字符或含有控制字符")),
    "duplicate_external_id": ("This external_id is on an earlier row of the file.",
                              N_("会员编号和文件里前面的一行重复")),
    "invalid_phone": ("phone is not a phone number (6-20 digits, an optional +).",
                      N_("手机号格式不对（6 到 20 位数字，可带 +）")),
    "duplicate_phone": ("This phone is on an earlier row of the file.",
                        N_("手机号和文件里前面的一行重复")),
    "phone_taken": ("Another member of this merchant has this phone.",
                    N_("手机号已属于另一位会员")),
    "invalid_name": ("name is longer than 120 characters or holds control characters.",
                     N_("姓名超过 120 个字符或含有控制字符")),
    "invalid_birthday": ("birthday is not a past date written YYYY-MM-DD.",
                         N_("生日不是 YYYY-MM-DD 格式的过去日期")),
    "invalid_points": ("points is not a whole number from 0 to 1000000000000.",
                       N_("积分不是 0 到 1000000000000 之间的整数")),
    "unknown_tier": ("No tier of this merchant has this name (set the tiers up first).",
                     N_("没有这个名字的会员等级（请先设置等级）")),
}


def row_message(code: str) -> str:
    return ROW_CODES[code][0]


def row_words(code: str) -> str:
    """The row code's message id, for the console to translate."""
    return ROW_CODES[code][1]


class FileProblem(InvalidInput):
    """The file as a whole cannot be read: nothing is imported."""

    def __init__(self, code: str, message: str, words: str, **details: object) -> None:
        super().__init__(message, **details)
        self.code = code  # type: ignore[misc]  # per instance: one class, several codes
        self.words = words
        self.word_args = {k: str(v) for k, v in details.items()}


class Row(NamedTuple):
    """One member row (a tuple: a file of 100,000 rows makes 100,000 of them)."""

    number: int  # in the file, the header being row 1
    external_id: str
    phone: str | None
    name: str | None
    birthday: date | None
    points: int
    tier: str | None
    problem: str | None = None  # a row code; None when the row is good so far
    cells: tuple[str, ...] = ()  # what the file says, for the preview


@dataclass(frozen=True)
class Parsed:
    columns: tuple[str, ...]
    rows: list[Row]

    @property
    def problems(self) -> list[Row]:
        return [r for r in self.rows if r.problem is not None]


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem(
            "invalid_encoding", "The file is not UTF-8 text (save it as CSV UTF-8).",
            N_("文件不是 UTF-8 编码，请在表格软件里另存为「CSV UTF-8」后再上传"),
            position=exc.start) from None


def _header(cells: list[str]) -> tuple[str, ...]:
    columns: list[str] = []
    for cell in cells:
        name = cell.strip()
        name = ALIASES.get(name, name.lower())
        if name not in COLUMNS:
            raise FileProblem("unknown_column", f"Unknown column {cell!r}; the columns are "
                              f"{', '.join(COLUMNS)}.", N_("不认识的列「%(column)s」"),
                              column=cell)
        if name in columns:
            raise FileProblem("duplicate_column", f"The column {name} is in the header twice.",
                              N_("表头里「%(column)s」出现了两次"), column=name)
        columns.append(name)
    if "external_id" not in columns:
        raise FileProblem("missing_column", "The header has no external_id column.",
                          N_("表头缺少 external_id（会员编号）列"), column="external_id")
    return tuple(columns)


def _records(body: bytes) -> tuple[tuple[str, ...], list[tuple[int, list[str]]]]:
    """The header's columns, and each non-blank record with the file row it starts on (the
    header is row 1; a blank line still counts, as a spreadsheet counts it)."""
    reader = csv.reader(io.StringIO(decode(body), newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)  # blank lines above the header
        if header is None:
            raise FileProblem("empty_file", "The file is empty.", N_("文件是空的"))
        columns = _header(header)
        records = []
        while True:
            start = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                break
            if any(c.strip() for c in cells):  # a blank line is no member
                records.append((start, cells))
    except csv.Error as exc:
        raise FileProblem("malformed_csv", f"The file is not valid CSV: {exc}.",
                          N_("文件不是有效的 CSV（第 %(line)s 行附近）"),
                          line=reader.line_num) from None
    if not records:
        raise FileProblem("no_rows", "The file has a header but no members.",
                          N_("文件只有表头，没有会员"))
    return columns, records


def count_rows(body: bytes) -> int:
    """The file's member rows, after checking that the file and its header can be read
    (FileProblem otherwise); the rows themselves are checked by ``parse``."""
    return len(_records(body)[1])


def parse(body: bytes) -> Parsed:
    """Every row of the file with its first problem, if any; duplicates within the file
    fail every occurrence after the first."""
    columns, records = _records(body)
    rows: list[Row] = []
    ids: set[str] = set()
    phones: set[str] = set()
    for number, cells in records:
        row = _row(number, columns, cells)
        if row.problem is None and row.external_id in ids:
            row = failed(row, "duplicate_external_id")
        elif row.problem is None and row.phone is not None and row.phone in phones:
            row = failed(row, "duplicate_phone")
        if row.problem is None:
            ids.add(row.external_id)
            if row.phone is not None:
                phones.add(row.phone)
        rows.append(row)
    return Parsed(columns, rows)


def failed(row: Row, code: str) -> Row:
    """The row, failed with ``code``."""
    return row._replace(problem=code)


def _row(number: int, columns: tuple[str, ...], cells: list[str]) -> Row:
    values = dict(zip(columns, (c.strip() for c in cells), strict=False))
    external_id = values.get("external_id", "")
    kept = tuple(cells)

    def bad(code: str) -> Row:
        return Row(number, external_id, None, None, None, 0, None, code, kept)

    if len(cells) != len(columns):
        return bad("wrong_column_count")
    if not external_id:
        return bad("missing_external_id")
    if len(external_id) > MAX_EXTERNAL_ID or forbidden_character(external_id) is not None:
        return bad("invalid_external_id")
    phone = _phone(values.get("phone", ""))
    if phone is False:
        return bad("invalid_phone")
    name = values.get("name") or None
    if name is not None and (len(name) > MAX_NAME or forbidden_character(name) is not None):
        return bad("invalid_name")
    good, birthday = _birthday(values.get("birthday", ""))
    if not good:
        return bad("invalid_birthday")
    points = _points(values.get("points", ""))
    if points is None:
        return bad("invalid_points")
    tier = values.get("tier") or None
    if tier is not None and (len(tier) > MAX_TIER or forbidden_character(tier) is not None):
        return bad("unknown_tier")
    return Row(number, external_id, phone if isinstance(phone, str) and phone else None, name,
               birthday, points, tier, None, kept)


def _phone(text: str) -> str | bool:
    """'' for none, the phone as stored, or False. A mainland mobile is stored as its 11
    digits (how the till and joining look members up); anything else as the API takes it."""
    if not text:
        return ""
    try:
        return normalise_mobile(text)
    except ValueError:
        digits = re.sub(r"[\s-]", "", text)
        return digits if _PHONE.match(digits) else False


def _birthday(text: str) -> tuple[bool, date | None]:
    """Whether the cell is good, and its date (None when empty)."""
    if not text:
        return True, None
    if not _DATE.match(text):
        return False, None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return False, None
    return birthday_in_range(value), value


def _points(text: str) -> int | None:
    if not text:
        return 0
    cleaned = text.replace(",", "")
    if not cleaned.isascii() or not cleaned.isdigit():
        return None
    value = int(cleaned)
    return value if value <= MAX_POINTS else None
