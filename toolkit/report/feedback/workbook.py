"""Feedback workbooks: the unit's own file sent back with every problem marked in place.

A unit fixes its file in one round when it sees, in the file it filled, each wrong cell
coloured with the reason in a comment, plus a first sheet "Lỗi cần sửa" listing everything
with links to the cells. The ``_meta`` sheet and custom properties are kept, so the corrected
file is identified again when it comes back.

The inbox file is never touched: a copy of its bytes is loaded. Files openpyxl cannot open
(.ods, .xls, broken zips) get a standalone workbook with just the list. :func:`feedback_bytes`
never raises for a weird file; it falls back to the standalone list.

Output is reproducible: no wall-clock time is written (openpyxl's "modified" stamp and zip
entry times are fixed), so re-running on the same inbox gives identical bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from toolkit.report.feedback.lines import (
    AUTHOR,
    BODY_SIZE,
    ERROR_FILL,
    FEEDBACK_SHEET,
    FONT_NAME,
    HEADERS,
    HEADING_ROWS,
    OPENPYXL_SUFFIXES,
    WARNING_FILL,
    WIDTHS,
    ZIP_TIME,
    Line,
    clean,
    finding_lines,
    heading,
    location,
    row_height,
)
from toolkit.report.feedback.source import FormulaRule, original_bytes
from toolkit.spec.campaign import Campaign
from toolkit.spec.layout import rowcol
from toolkit.spec.models import SEVERITY_LABELS, Submission

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Font
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet
    from xlsxwriter.format import Format


# --------------------------------------------------------------------------- openpyxl copy


def _put_text(ws: Worksheet, row: int, col: int, value: str) -> Cell:
    """Write ``value`` as text, never as a formula or an error code."""
    cell = ws.cell(row=row, column=col)
    cell.value = value if value else None
    if value:
        cell.data_type = "s"
    return cell


def _target_cell(ws: Worksheet, ref: str) -> Cell | None:
    """The cell to mark for ``ref``; the top-left cell when it lies in a merged range."""
    from openpyxl.cell.cell import MergedCell

    try:
        rowcol(ref)
        cell = ws[ref]
    except (ValueError, KeyError, IndexError):
        return None
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if cell.coordinate in rng:
                return ws.cell(row=rng.min_row, column=rng.min_col)
        return None
    return cell


def _formula_text(value: object) -> str:
    text = getattr(value, "text", value)  # ArrayFormula / DataTableFormula carry .text
    return "" if text is None else str(text)


def _neutralise(wb: Workbook, original: bytes, rule: FormulaRule) -> None:
    """Every formula cell the rule does not keep becomes its cached value, or its text."""
    import openpyxl

    cached: Workbook | None = None
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                text = _formula_text(cell.value)
                plain = isinstance(cell.value, str)
                if plain and rule.keep(ws.title, cell.coordinate, text):
                    continue
                if cached is None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        cached = openpyxl.load_workbook(io.BytesIO(original), data_only=True)
                value = cached[ws.title][cell.coordinate].value
                if value is None or isinstance(value, str):
                    shown = text if value is None else value
                    _put_text(ws, cell.row, cell.column, clean(shown))
                else:
                    cell.value = value


def _drop_names_and_links(wb: Workbook) -> None:
    """Of the unit's defined names only print areas and titles stay (openpyxl keeps those
    on each sheet, apart from the names); any other name may hold a formula or a reference
    into another workbook, and external links would make the feedback copy reach out for
    files: neither is carried into an output."""
    wb.defined_names.clear()
    for ws in wb.worksheets:
        ws.defined_names.clear()
    wb._external_links = []


def _drop_old_comments(wb: Workbook) -> None:
    """A file that already went through feedback once: its old notes would mislead."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None


def _mark_cells(wb: Workbook, lines: Sequence[Line]) -> set[tuple[str, str]]:
    """Colour each cell with a finding and add a comment; return the (sheet, cell) marked."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    notes: dict[tuple[str, str], list[Line]] = {}
    for line in lines:
        if line.cell and line.sheet in wb.sheetnames:
            notes.setdefault((line.sheet, line.cell.upper()), []).append(line)
    marked = set()
    for (sheet, ref), group in notes.items():
        cell = _target_cell(wb[sheet], ref)
        if cell is None:
            continue
        worst = "error" if any(x.severity == "error" for x in group) else "warning"
        colour = ERROR_FILL if worst == "error" else WARNING_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        text = "\n".join(f"{SEVERITY_LABELS.get(x.severity, x.severity)}: {x.message}"
                         for x in group)
        comment = Comment(clean(text), AUTHOR)
        comment.width = 320
        comment.height = min(60 + 18 * (len(text) // 45 + len(group)), 400)
        cell.comment = comment
        marked.add((sheet, ref))
    return marked


def _list_sheet_openpyxl(wb: Workbook, heading: Sequence[str], lines: Sequence[Line],
                         marked: set[tuple[str, str]]) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    def font(*, bold: bool = False, size: int = BODY_SIZE, color: str | None = None,
             underline: str | None = None) -> Font:
        return Font(name=FONT_NAME, sz=size, b=bold, color=color, u=underline)

    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    for i, text in enumerate(heading, start=1):
        cell = _put_text(ws, i, 1, text)
        cell.font = font(bold=True, size=14 if i == 1 else BODY_SIZE,
                         color="C00000" if i == len(heading) else None)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    top = HEADING_ROWS + 1
    for j, (label, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = _put_text(ws, top, j, label)
        cell.font = font(bold=True)
        cell.fill = PatternFill(fill_type="solid", start_color="D9E1F2", end_color="D9E1F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
        ws.column_dimensions[get_column_letter(j)].width = width
    wrap = Alignment(vertical="top", wrap_text=True)
    for i, line in enumerate(lines, start=top + 1):
        ws.cell(row=i, column=1, value=line.number)
        values = (line.form_label, line.cell, line.column, line.value,
                  SEVERITY_LABELS.get(line.severity, line.severity), line.message)
        for j, value in enumerate(values, start=2):
            _put_text(ws, i, j, value)
        for j in range(1, len(HEADERS) + 1):
            ws.cell(row=i, column=j).border = border
            ws.cell(row=i, column=j).alignment = wrap
            ws.cell(row=i, column=j).font = font()
        link = ws.cell(row=i, column=3)
        if (line.sheet, line.cell.upper()) in marked:
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=location(line.sheet, line.cell.upper()),
                                       display=line.cell)
            link.font = font(color="0563C1", underline="single")
        if line.severity == "error":
            ws.cell(row=i, column=6).font = font(bold=True, color="C00000")
        ws.row_dimensions[i].height = row_height(values)
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    # printed like every other sheet of ours: A4 landscape, one page wide, header repeated
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{top}:{top}"
    for other in wb.worksheets:
        other.sheet_view.tabSelected = other is ws
    wb.active = 0


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack with fixed entry times: the same workbook always gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def annotated(submission: Submission, campaign: Campaign, lines: Sequence[Line]) -> bytes:
    """The unit's own workbook (a copy) with findings marked and the list sheet first."""
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    original = original_bytes(submission)
    if original is None:
        raise ValueError("not patched from this file")
    with warnings.catch_warnings():  # "extension not supported" etc.: noise for the clerk
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(original), keep_vba=False)
    _neutralise(wb, original, FormulaRule(submission, campaign))
    _drop_names_and_links(wb)
    _drop_old_comments(wb)
    marked = _mark_cells(wb, lines)
    _list_sheet_openpyxl(wb, heading(submission, campaign, bool(marked)), lines, marked)
    buffer = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook would stamp "modified" with the clock
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return _fixed_zip(buffer.getvalue())


# --------------------------------------------------------------------------- standalone


def _standalone(submission: Submission, campaign: Campaign, lines: Sequence[Line]) -> bytes:
    """Just the "Lỗi cần sửa" sheet, for files openpyxl cannot open or rewrite."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_numbers": False, "strings_to_urls": False})
    created = submission.received_at or dt.datetime.combine(campaign.document_date, dt.time())
    wb.set_properties({"title": "Phản hồi kiểm tra số liệu", "author": AUTHOR,
                       "created": created.replace(tzinfo=None)})
    ws = wb.add_worksheet(FEEDBACK_SHEET)
    def fmt(**props: object) -> Format:
        return wb.add_format({"font_name": FONT_NAME, "font_size": BODY_SIZE, **props})

    title = fmt(bold=True, font_size=14)
    bold = fmt(bold=True)
    todo = fmt(bold=True, font_color="#C00000")
    header = fmt(bold=True, bg_color="#D9E1F2", border=1, align="center", valign="vcenter",
                 text_wrap=True)
    body = fmt(border=1, valign="top", text_wrap=True)
    error = fmt(border=1, valign="top", bold=True, font_color="#C00000")
    top_lines = heading(submission, campaign, marked=False)
    for i, text in enumerate(top_lines):
        look = title if i == 0 else todo if i == len(top_lines) - 1 else bold
        ws.write_string(i, 0, clean(text), look)
    top = HEADING_ROWS
    for j, (label, width) in enumerate(zip(HEADERS, WIDTHS, strict=True)):
        ws.write_string(top, j, label, header)
        ws.set_column(j, j, width)
    for i, line in enumerate(lines, start=top + 1):
        ws.write_number(i, 0, line.number, body)
        values = (line.form_label, line.cell, line.column, line.value,
                  SEVERITY_LABELS.get(line.severity, line.severity), line.message)
        for j, value in enumerate(values, start=1):
            style = error if j == 5 and line.severity == "error" else body
            ws.write_string(i, j, value, style)
        ws.set_row(i, row_height(values))
    ws.freeze_panes(top + 1, 0)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(top)
    wb.close()
    return buffer.getvalue()


def feedback_bytes(submission: Submission, campaign: Campaign) -> bytes:
    """The feedback workbook for ``submission``: its own file annotated when openpyxl can
    open it (.xlsx/.xlsm), otherwise a standalone list. Never raises for a weird file."""
    lines = finding_lines(submission, campaign)
    path = submission.path
    if path is not None and path.suffix.lower() in OPENPYXL_SUFFIXES:
        try:
            return annotated(submission, campaign, lines)
        except Exception:  # any broken or exotic workbook: the list alone still helps
            pass
    return _standalone(submission, campaign, lines)
