"""Reading a units file as offices keep it, before :mod:`toolkit.spec.units` checks it.

Offices keep their list of units in Excel and save it as they can: CSV separated by ``;``
(what Excel writes when Windows' list separator is Vietnamese) or ``,``, a title row such as
"DANH SÁCH CƠ SỞ ĐOÀN TRỰC THUỘC" above the header, Vietnamese headers (Mã, Tên đơn vị, Cấp,
Đơn vị cấp trên, Email) and levels ("Cơ sở", "Huyện", "Tỉnh", "Xã", "TW": the words of
:mod:`toolkit.spec.levels`). All of these are read into the canonical
``code,name,level,parent,email`` rows; the row numbers stay those the clerk sees. Optional
columns: phone, place, and for a merged or renamed unit its successor ("Thay thế bởi",
"Sáp nhập vào") and the date of the merger ("Ngày sáp nhập").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from toolkit.spec.levels import LEVEL_LABELS, fold, level_of

__all__ = ["HEADER_LABELS", "HEADER_WORDS", "LEVEL_LABELS", "OPTIONAL_COLUMNS",
           "REQUIRED_COLUMNS", "UnitsFileShapeError", "cell_text", "fold", "level_of",
           "read_table"]

REQUIRED_COLUMNS = ("code", "name", "level", "parent", "email")
# the header a clerk may type for each column, folded (see :func:`fold`); one place
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "code": ("code", "ma", "ma don vi", "ma so", "ma dv"),
    "name": ("name", "ten", "ten don vi", "don vi", "ten dv"),
    "level": ("level", "cap", "cap don vi"),
    "parent": ("parent", "don vi cap tren", "cap tren", "ma cap tren", "ma don vi cap tren",
               "don vi cap tren truc tiep", "ma dv cap tren"),
    "email": ("email", "e mail", "mail", "thu dien tu", "dia chi email",
              "dia chi thu dien tu", "hop thu"),
    # optional: who to call when the unit has not reported (the summary's call list)
    "phone": ("phone", "dien thoai", "so dien thoai", "sdt", "dt", "dien thoai lien he"),
    "place": ("place", "dia danh", "noi ky", "dia diem"),
    # optional: a merged or renamed unit names the unit that carries on its reporting
    "successor": ("successor", "thay the boi", "merged into", "merged_into", "sap nhap vao",
                  "don vi ke thua", "ke thua", "don vi thay the", "ma don vi thay the",
                  "nhap vao", "don vi sap nhap vao", "doi ten thanh", "hop nhat vao"),
    "merged_on": ("merged on", "merged_on", "ngay sap nhap", "sap nhap tu ngay",
                  "ngay hop nhat", "ngay thay the", "ngay doi ten"),
}
OPTIONAL_COLUMNS = ("phone", "place", "successor", "merged_on")
# Vietnamese header shown in messages, beside the canonical key
HEADER_LABELS = {"code": "Mã", "name": "Tên đơn vị", "level": "Cấp",
                 "parent": "Đơn vị cấp trên", "email": "Email", "phone": "Điện thoại",
                 "place": "Địa danh", "successor": "Thay thế bởi",
                 "merged_on": "Ngày sáp nhập"}
SEPARATORS = (",", ";", "\t")
HEADER_SEARCH_ROWS = 10  # a title block above the header is a few rows at most


_HEADER = {fold(word): key for key, words in HEADER_WORDS.items() for word in words}


def _header_map(row: list[str]) -> dict[int, str]:
    """Column index → canonical key, for the cells of ``row`` that name a column."""
    found: dict[int, str] = {}
    for i, cell in enumerate(row):
        key = _HEADER.get(fold(cell))
        if key and key not in found.values():
            found[i] = key
    return found


def _table(raw: list[list[str]]) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows as ``(line number, {key: text})`` below the header row, and the required keys the
    best header candidate lacks (empty when the header was found)."""
    best: tuple[int, dict[int, str]] = (0, {})
    for index, row in enumerate(raw[:HEADER_SEARCH_ROWS]):
        mapping = _header_map(row)
        if len(mapping) > len(best[1]):
            best = (index, mapping)
        if set(REQUIRED_COLUMNS) <= set(mapping.values()):
            break
    index, mapping = best
    missing = [k for k in REQUIRED_COLUMNS if k not in mapping.values()]
    if missing:
        return [], missing
    rows = []
    for line, raw_row in enumerate(raw[index + 1:], start=index + 2):
        rows.append((line, {key: raw_row[i] if i < len(raw_row) else ""
                            for i, key in mapping.items()}))
    return rows, []


def cell_text(value: object) -> str:
    """A spreadsheet cell as the clerk typed it (``101.0`` read back is ``101``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):  # a date cell (Ngày sáp nhập) as calamine reads it
        return value.isoformat(sep=" ") if value.time() != dt.time() else \
            value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


class UnitsFileShapeError(Exception):
    """The file has no header row naming the required columns (message: Vietnamese)."""


def read_table(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of a units file keyed by canonical column, with the line number a clerk
    sees. Raises :class:`UnitsFileShapeError` (a Vietnamese reason) when the file cannot
    be read or names no header row."""
    suffix = path.suffix.lower()
    candidates: list[list[list[str]]]
    if suffix in (".xlsx", ".xlsm", ".ods", ".xls"):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
            data = book.get_sheet_by_index(0).to_python()
        except Exception as exc:  # calamine raises several error types for broken files
            raise UnitsFileShapeError(f"Không đọc được tệp đơn vị {path}: {exc}") from None
        candidates = [[[cell_text(v) for v in row] for row in data]]
    else:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnitsFileShapeError(f"Tệp đơn vị {path} không phải UTF-8; hãy lưu lại dạng "
                                      "CSV UTF-8") from None
        candidates = [list(csv.reader(io.StringIO(text), delimiter=sep)) for sep in SEPARATORS]
    if not any(any(any(c.strip() for c in row) for row in raw) for raw in candidates):
        raise UnitsFileShapeError(f"Tệp đơn vị {path} trống")
    lacks: list[str] = list(REQUIRED_COLUMNS)
    for raw in candidates:
        rows, missing = _table(raw)
        if not missing:
            return rows
        if len(missing) < len(lacks):
            lacks = missing
    named = ", ".join(f"{k} ({HEADER_LABELS[k]})" for k in lacks)
    raise UnitsFileShapeError(
        f"Tệp đơn vị {path} thiếu cột: {named} — cần một dòng tiêu đề có đủ các cột "
        f"{', '.join(HEADER_LABELS[k] for k in REQUIRED_COLUMNS)} "
        f"(hoặc {','.join(REQUIRED_COLUMNS)})")
