"""The report's appendices: every form of the campaign as a Word table with the plan's merged
headers (from the columns' header paths, as the templates draw them), one row per unit (per
fixed row, per list row, per indicator) and the Tổng cộng row, each in its own section, wide
ones on landscape pages.

Written with python-docx after the template is rendered, so an office's own template only
has to hold the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from toolkit.report.word.figures import value_text
from toolkit.spec.campaign import Column
from toolkit.spec.layout import header_cells
from toolkit.spec.models import ConsolidationResult, FormSummary
from toolkit.spec.targets import COMPLETION, NOTE, TARGET, UNIT_OF_MEASURE

TOTAL_LABEL = "Tổng cộng"
LANDSCAPE_FROM = 8  # columns: from this many on, the table gets a landscape page
STATUS_COLUMN = Column("status", ("Đánh giá",), "text", aggregate="none", width=9)


@dataclass(frozen=True)
class Grid:
    """One appendix table as text: its columns (header paths) and rows of cell texts."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    bold_rows: frozenset[int]  # indexes of the total rows


def _lead(key: str, label: str, width: float) -> Column:
    return Column(f"_{key}", (label,), "text", aggregate="none", width=width)


def form_grid(fs: FormSummary) -> Grid:
    """The appendix table of one form summary."""
    form = fs.form
    rows: list[tuple[str, ...]] = []
    bold: set[int] = set()
    if form.kind == "targets":
        shown = [c for c in form.columns if c.key != NOTE]
        cols = (_lead("name", form.row_header, 40), _lead("unit", UNIT_OF_MEASURE[1], 9),
                *shown, STATUS_COLUMN)
        units = [r for r in fs.rows if r.kind == "unit"]
        for row in [r for r in fs.rows if r.kind == "office"]:
            ind = form.indicator(row.key)
            # the indicator's totals (bold), then each unit's own figures under it
            for line in (row, *(u for u in units if u.key == row.key)):
                values = [value_text(c, line.values.get(c.key)) for c in shown]
                if ind.is_rate and line.values.get(TARGET) is not None:
                    values[0] = value_text(Column("t", ("t",), "number"),
                                           line.values[TARGET]) + "%"
                status = (str(line.values.get("status") or "")
                          if line.values.get(COMPLETION) is not None else "")
                if line is row:
                    bold.add(len(rows))
                    rows.append((ind.name, ind.unit, *values, status))
                else:
                    rows.append((f"- {line.unit_name}", "", *values, status))
        return Grid(cols, tuple(rows), frozenset(bold))
    if form.kind == "list":
        cols = (_lead("tt", "TT", 7), _lead("unit", "Đơn vị", 22), *form.columns)
        for i, row in enumerate(fs.rows, start=1):
            rows.append((str(i), row.unit_name,
                         *(value_text(c, row.values.get(c.key)) for c in form.columns)))
        return Grid(cols, tuple(rows), frozenset())
    label = form.row_header if form.kind == "fixed_rows" else "Đơn vị"
    cols = (_lead("tt", "TT", 7), _lead("label", label, 26 if form.kind != "fixed_rows" else 12),
            *form.columns)
    n = 0
    for row in fs.rows:
        total = row.kind == "total" or (form.kind == "single_row" and row.kind == "office")
        if not total:
            n += 1
        else:
            bold.add(len(rows))
        rows.append(("" if total else str(n), TOTAL_LABEL if total else row.label,
                     *(value_text(c, row.values.get(c.key)) for c in form.columns)))
    return Grid(cols, tuple(rows), frozenset(bold))


def _borders(table: Any) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def _repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _write(cell: Any, text: str, *, size: float, bold: bool = False,
           align: Any = WD_ALIGN_PARAGRAPH.CENTER) -> None:
    p = cell.paragraphs[0]
    p.alignment = align
    fmt = p.paragraph_format
    fmt.first_line_indent, fmt.space_after, fmt.space_before = Cm(0), Pt(0), Pt(0)
    fmt.line_spacing = 1.0
    run = p.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold or None
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _widths(columns: Sequence[Column], usable_mm: float) -> list[float]:
    raw = [float(c.width or (24 if c.type == "text" else 11)) for c in columns]
    total = sum(raw)
    return [usable_mm * w / total for w in raw]


def add_table(doc: Any, grid: Grid, usable_mm: float) -> Any:
    """The grid as a bordered table: merged multi-level header, the column numbers row
    ``(1) (2) …``, then the data rows."""
    depth = max(len(c.header) for c in grid.columns)
    ncols = len(grid.columns)
    size = 11.0 if ncols < LANDSCAPE_FROM else 10.0 if ncols <= 12 else 9.0 if ncols <= 16 \
        else 8.0
    table = doc.add_table(rows=depth + 1 + len(grid.rows), cols=ncols)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _borders(table)
    widths = _widths(grid.columns, usable_mm)
    # one snapshot of the regular grid: python-docx's table.cell() walks the whole table on
    # every call (a 100-row appendix took minutes); header regions are disjoint, so the
    # snapshot's cells stay valid while the header is merged last
    cells = table._cells
    nrows = depth + 1 + len(grid.rows)

    def at(r: int, c: int) -> Any:
        return cells[r * ncols + c]

    for c, width in enumerate(widths):
        table.columns[c].width = Mm(width)
        for r in range(nrows):
            at(r, c).width = Mm(width)
    for r in range(depth + 1):
        _repeat_header(table.rows[r])
    for c in range(ncols):
        _write(at(depth, c), f"({c + 1})", size=size - 1)
    for i, row in enumerate(grid.rows):
        bold = i in grid.bold_rows
        for c, (col, text) in enumerate(zip(grid.columns, row, strict=True)):
            align = (WD_ALIGN_PARAGRAPH.RIGHT if col.is_numeric and c > 1 else
                     WD_ALIGN_PARAGRAPH.LEFT if col.type == "text" and len(text) > 12 else
                     WD_ALIGN_PARAGRAPH.CENTER)
            _write(at(depth + 1 + i, c), text, size=size, bold=bold, align=align)
    for hc in header_cells(grid.columns, 0, 0, depth):
        cell = at(hc.first_row, hc.first_col)
        if hc.merged:
            cell = cell.merge(at(hc.last_row, hc.last_col))
        _write(cell, hc.label, size=size, bold=True)
    return table


def _line(doc: Any, text: str, *, bold: bool = False, italic: bool = False,
          size: float = 14) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Cm(0)
    p.paragraph_format.space_after = Pt(0)
    run = p.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    run.font.size = Pt(size)


def add_appendices(doc: Any, result: ConsolidationResult, attached_to: str) -> None:
    """One section per form at the end of ``doc``; ``attached_to`` is the line under each
    title (``(Kèm theo Báo cáo số …-BC/ĐTN của …)``)."""
    first = doc.sections[0]
    for fs in result.forms:
        grid = form_grid(fs)
        section = doc.add_section(WD_SECTION.NEW_PAGE)
        section.different_first_page_header_footer = False
        wide = len(grid.columns) >= LANDSCAPE_FROM
        section.orientation = WD_ORIENT.LANDSCAPE if wide else WD_ORIENT.PORTRAIT
        long_side, short_side = max(first.page_width, first.page_height), min(
            first.page_width, first.page_height)
        section.page_width, section.page_height = ((long_side, short_side) if wide
                                                   else (short_side, long_side))
        if wide:  # the binding edge stays on the left of the text: wide margin on top
            section.top_margin, section.bottom_margin = Mm(20), Mm(15)
            section.left_margin, section.right_margin = Mm(20), Mm(15)
        else:
            section.top_margin, section.bottom_margin = first.top_margin, first.bottom_margin
            section.left_margin, section.right_margin = first.left_margin, first.right_margin
        usable = (section.page_width - section.left_margin - section.right_margin) / 36000
        _line(doc, fs.form.number.upper(), bold=True)
        _line(doc, fs.form.title, bold=True)
        _line(doc, attached_to, italic=True, size=13)
        doc.add_paragraph().paragraph_format.space_after = Pt(0)
        if not grid.rows:
            _line(doc, "(Chưa có số liệu: chưa đơn vị nào báo cáo hợp lệ.)", italic=True)
            continue
        add_table(doc, grid, usable)
