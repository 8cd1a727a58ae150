"""An Excel plan (``.xlsx``) read into :class:`~toolkit.author.plan_model.Plan`: each
sheet's bordered table as a grid of merged cells, the text around it as paragraphs."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Sequence
from typing import Any

from toolkit.author.plan_model import (
    MAX_SHEET_CELLS,
    MAX_TABLES,
    Cell,
    Paragraph,
    Plan,
    PlanError,
    Table,
    a1,
    caption_above,
)
from toolkit.spec.text import clean_text, nfc

# --------------------------------------------------------------------------- xlsx


def read_xlsx(data: bytes, name: str) -> Plan:
    """One drawn table per sheet (the zip already checked by :func:`_sniff`): the table
    starts at the first row holding two or more cells (with a value or a border) and goes on
    while rows hold something; text above it is its caption, other text is paragraphs."""
    import openpyxl

    where = f"Tệp «{name}»"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise PlanError(where, "không mở được bảng tính: tệp bị hỏng hoặc không đúng định dạng "
                        f"(chi tiết: {type(exc).__name__}: {exc})") from None
    paragraphs: list[Paragraph] = []
    tables: list[Table] = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        table = _sheet_table(ws, len(tables) + 1, paragraphs, name)
        if table is not None:
            tables.append(table)
        if len(tables) > MAX_TABLES:
            raise PlanError(where, f"tệp có hơn {MAX_TABLES} bảng")
    created = wb.properties.created
    return Plan(name, "xlsx", tuple(paragraphs), tuple(tables),
                created=created.date() if isinstance(created, dt.datetime) else None)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return clean_text(str(value))


def _sheet_table(ws: Any, number: int, paragraphs: list[Paragraph], name: str
                 ) -> Table | None:
    n_rows, n_cols = ws.max_row or 0, ws.max_column or 0
    if n_rows * n_cols > MAX_SHEET_CELLS:
        raise PlanError(f"Tệp «{name}», trang tính «{ws.title}»",
                        f"vùng dữ liệu {n_rows}×{n_cols} ô, quá lớn")
    merges: list[tuple[int, int, int, int]] = []  # 0-based inclusive r0, c0, r1, c1
    for rng in ws.merged_cells.ranges:
        merges.append((rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1))
    _check_overlaps(merges, number, ws.title)
    values: list[list[str]] = []
    bordered: list[list[bool]] = []
    for row in ws.iter_rows(min_row=1, max_row=n_rows, max_col=n_cols):
        values.append([_cell_text(c.value) for c in row])
        bordered.append([_has_border(c) for c in row])
    merge_at: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for m in merges:
        for r in range(m[0], m[2] + 1):
            for c in range(m[1], m[3] + 1):
                merge_at[(r, c)] = m

    def anchors_in(r: int) -> int:
        """Distinct cells of row r holding a value or a border (a merge counts once)."""
        seen: set[tuple[int, ...]] = set()
        for c in range(n_cols):
            if values[r][c] or bordered[r][c] or (r, c) in merge_at:
                m = merge_at.get((r, c))
                key: tuple[int, ...] = m if m is not None else (r, c)
                if m is None or values[m[0]][m[1]] or any(
                        bordered[rr][cc] for rr in range(m[0], m[2] + 1)
                        for cc in range(m[1], m[3] + 1)):
                    seen.add(key)
        return len(seen)

    counts = [anchors_in(r) for r in range(n_rows)]
    # a drawn table has borders: when the sheet has any, the table starts at the first row
    # with two bordered cells (a caption line «ĐƠN VỊ: …… Biểu số 01» has two texts, no
    # borders); a sheet without borders falls back to the first row with two values
    boxed = [sum(1 for c in range(n_cols) if bordered[r][c]) for r in range(n_rows)]
    top = next((r for r in range(n_rows) if boxed[r] >= 2), None)
    if top is None:
        top = next((r for r in range(n_rows) if counts[r] >= 2), None)
    if top is None:
        paragraphs.extend(Paragraph(t) for r in range(n_rows)
                          for t in (" ".join(v for v in values[r] if v),) if t)
        return None
    bottom = top  # the table goes on while rows hold something (a year, a border)
    while bottom + 1 < n_rows and (counts[bottom + 1] >= 1 or any(
            (bottom + 1, c) in merge_at and merge_at[(bottom + 1, c)][0] <= bottom
            for c in range(n_cols))):
        bottom += 1
    cols = [c for r in range(top, bottom + 1) for c in range(n_cols)
            if values[r][c] or bordered[r][c]]
    left, right = min(cols), max(cols)
    for m in merges:
        if m[0] <= bottom and m[2] >= top and m[1] <= right and m[3] >= left:
            left, right = min(left, m[1]), max(right, m[3])
    above_at = len(paragraphs)
    for r in range(top):
        line = " ".join(v for v in values[r] if v)
        if line:
            paragraphs.append(Paragraph(line))
    cells: list[Cell] = []
    done: set[tuple[int, int, int, int]] = set()
    for r in range(top, bottom + 1):
        for c in range(left, right + 1):
            merged = merge_at.get((r, c))
            if merged is None:
                cells.append(Cell(r - top, c - left, values[r][c]))
            elif merged not in done:
                done.add(merged)
                r0, c0, r1, c1 = merged
                if r0 < top or r1 > bottom or c0 < left or c1 > right:
                    raise PlanError(f"Bảng {number} (trang tính «{ws.title}»), ô {a1(r0, c0)}",
                                    "ô gộp vượt ra ngoài bảng")
                cells.append(Cell(r0 - top, c0 - left, values[r0][c0], r1 - r0 + 1, c1 - c0 + 1))
    cells.sort(key=lambda x: (x.row, x.col))
    caption = caption_above(paragraphs, above_at)
    table = Table(number, caption, tuple(cells), bottom - top + 1, right - left + 1,
                  position=len(paragraphs), sheet=nfc(ws.title), origin=(top, left))
    for r in range(bottom + 1, n_rows):
        line = " ".join(v for v in values[r] if v)
        if line:
            paragraphs.append(Paragraph(line))
    return table


def _has_border(cell: Any) -> bool:
    border = cell.border
    if border is None:
        return False
    return any(getattr(getattr(border, side, None), "style", None)
               for side in ("left", "right", "top", "bottom"))


def _check_overlaps(merges: Sequence[tuple[int, int, int, int]], number: int,
                    sheet: str) -> None:
    """Two merged ranges that share a cell: Excel never writes that, a damaged or
    hand-made file can, and then nobody knows which header a cell belongs to."""
    ordered = sorted(merges)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b[0] > a[2]:
                break
            if b[1] <= a[3] and b[3] >= a[1]:
                raise PlanError(
                    f"Bảng {number} (trang tính «{sheet}»), ô {a1(b[0], b[1])}",
                    f"vùng gộp {a1(a[0], a[1])}:{a1(a[2], a[3])} chồng lên vùng gộp "
                    f"{a1(b[0], b[1])}:{a1(b[2], b[3])}; hãy bỏ gộp rồi gộp lại")


