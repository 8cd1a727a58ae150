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
import math
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toolkit.layout import rowcol
from toolkit.models import SEVERITY_LABELS, Finding, Submission
from toolkit.spec import Campaign

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

FEEDBACK_SHEET = "Lỗi cần sửa"
AUTHOR = "toolkit"
ERROR_FILL = "FFC7CE"  # Excel's "bad" red
WARNING_FILL = "F8CBAD"  # orange: template input cells are already yellow
HEADERS = ("TT", "Phụ lục", "Ô", "Cột", "Giá trị đã nhập", "Mức độ", "Nội dung cần sửa")
WIDTHS = (5, 12, 8, 40, 20, 10, 70)
HEADING_ROWS = 6  # title, unit, plan, file, what to do, blank
OPENPYXL_SUFFIXES = (".xlsx", ".xlsm")
MAX_TEXT = 32000  # Excel keeps at most 32,767 characters in a cell
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class _Line:
    """One finding as a row of the list."""

    number: int
    form_label: str
    sheet: str
    cell: str
    column: str
    value: str
    severity: str
    message: str


def _clean(text: object) -> str:
    """Text that can go into any xlsx cell: no XML-illegal control characters, not too long."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", "" if text is None else str(text))[:MAX_TEXT]


def _sort_key(campaign: Campaign, index: int, finding: Finding) -> tuple[int, int, int, int]:
    """Whole-file findings first, then form order, then cells in reading order."""
    form_ids = [f.id for f in campaign.forms]
    form_pos = form_ids.index(finding.form) + 1 if finding.form in form_ids else len(form_ids) + 1
    if not finding.form:
        form_pos = 0
    try:
        row, col = rowcol(finding.cell) if finding.cell else (-1, -1)
    except ValueError:
        row, col = (-1, -1)
    return (form_pos, row, col, index)


def _lines(submission: Submission, campaign: Campaign) -> list[_Line]:
    ordered = sorted(enumerate(submission.findings), key=lambda p: _sort_key(campaign, *p))
    lines = []
    for n, (_, f) in enumerate(ordered, start=1):
        form_label, sheet, column = f.form, f.form, f.column
        try:
            form = campaign.form(f.form)
        except KeyError:
            form = None
        if form is not None:
            form_label, sheet = form.number, form.sheet
            column = next((c.label for c in form.columns if c.key == f.column), f.column)
        lines.append(_Line(n, _clean(form_label), sheet, _clean(f.cell), _clean(column),
                           _clean(f.value), f.severity, _clean(f.message)))
    return lines


def _heading(submission: Submission, campaign: Campaign, marked: bool) -> list[str]:
    """The lines above the list: what this is, for whom, and what to do."""
    unit = submission.unit_name or "(chưa xác định được đơn vị)"
    if submission.unit_code:
        unit = f"{unit} (mã {submission.unit_code})"
    errors, warnings = submission.errors, submission.warnings
    where = "các ô được tô màu trong tệp này" if marked else "các ô nêu dưới đây"
    if errors:
        todo = f"Có {errors} lỗi cần sửa"
        if warnings:
            todo += f" và {warnings} cảnh báo cần xem lại"
        todo += f". Đề nghị sửa {where} rồi gửi lại tệp đã sửa."
    else:
        todo = (f"Không có lỗi; có {warnings} cảnh báo cần xem lại. Số liệu đã được tiếp nhận; "
                "nếu cần điều chỉnh, đề nghị gửi lại tệp đã sửa.")
    plan = f"Kế hoạch số {campaign.document_number}"
    if campaign.issuer:
        plan += f" của {campaign.issuer}"
    return [
        "PHẢN HỒI KIỂM TRA SỐ LIỆU",
        f"Đơn vị: {unit}",
        plan,
        f"Tệp đã nhận: {submission.file}",
        todo,
    ]


def _location(sheet: str, cell: str) -> str:
    """Internal link target ``'PL2'!E9`` (quotes doubled inside the sheet name)."""
    return "'{}'!{}".format(sheet.replace("'", "''"), cell)


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


def _drop_old_comments(wb: Workbook) -> None:
    """A file that already went through feedback once: its old notes would mislead."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None


def _mark_cells(wb: Workbook, lines: Sequence[_Line]) -> set[tuple[str, str]]:
    """Colour each cell with a finding and add a comment; return the (sheet, cell) marked."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    notes: dict[tuple[str, str], list[_Line]] = {}
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
        comment = Comment(_clean(text), AUTHOR)
        comment.width = 320
        comment.height = min(60 + 18 * (len(text) // 45 + len(group)), 400)
        cell.comment = comment
        marked.add((sheet, ref))
    return marked


def _list_sheet_openpyxl(wb: Workbook, heading: Sequence[str], lines: Sequence[_Line],
                         marked: set[tuple[str, str]]) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    for i, text in enumerate(heading, start=1):
        cell = _put_text(ws, i, 1, text)
        cell.font = Font(bold=True, size=14 if i == 1 else 11,
                         color="C00000" if i == len(heading) else None)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    top = HEADING_ROWS + 1
    for j, (label, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = _put_text(ws, top, j, label)
        cell.font = Font(bold=True)
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
        link = ws.cell(row=i, column=3)
        if (line.sheet, line.cell.upper()) in marked:
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=_location(line.sheet, line.cell.upper()),
                                       display=line.cell)
            link.font = Font(color="0563C1", underline="single")
        if line.severity == "error":
            ws.cell(row=i, column=6).font = Font(bold=True, color="C00000")
        ws.row_dimensions[i].height = _row_height(values)
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
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _annotated(submission: Submission, campaign: Campaign, lines: Sequence[_Line]) -> bytes:
    """The unit's own workbook (a copy) with findings marked and the list sheet first."""
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    original = submission.path.read_bytes()
    with warnings.catch_warnings():  # "extension not supported" etc.: noise for the clerk
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(original), keep_vba=False)
    _drop_old_comments(wb)
    marked = _mark_cells(wb, lines)
    _list_sheet_openpyxl(wb, _heading(submission, campaign, bool(marked)), lines, marked)
    buffer = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook would stamp "modified" with the clock
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return _fixed_zip(buffer.getvalue())


# --------------------------------------------------------------------------- standalone


def _row_height(values: Sequence[str]) -> float:
    """Rows tall enough for the wrapped text (openpyxl does not size rows; LibreOffice and
    Excel keep the stored height)."""
    lines = max(
        math.ceil(len(str(v)) / max(width - 1, 1)) for v, width in zip(values, WIDTHS[1:],
                                                                       strict=False)
    )
    return 15.0 * max(lines, 1)


def _standalone(submission: Submission, campaign: Campaign, lines: Sequence[_Line]) -> bytes:
    """Just the "Lỗi cần sửa" sheet, for files openpyxl cannot open or rewrite."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_numbers": False, "strings_to_urls": False})
    created = submission.received_at or dt.datetime.combine(campaign.document_date, dt.time())
    wb.set_properties({"title": "Phản hồi kiểm tra số liệu", "author": AUTHOR,
                       "created": created.replace(tzinfo=None)})
    ws = wb.add_worksheet(FEEDBACK_SHEET)
    title = wb.add_format({"bold": True, "font_size": 14})
    bold = wb.add_format({"bold": True})
    todo = wb.add_format({"bold": True, "font_color": "#C00000"})
    header = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "align": "center",
                            "valign": "vcenter", "text_wrap": True})
    body = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    error = wb.add_format({"border": 1, "valign": "top", "bold": True, "font_color": "#C00000"})
    heading = _heading(submission, campaign, marked=False)
    for i, text in enumerate(heading):
        fmt = title if i == 0 else todo if i == len(heading) - 1 else bold
        ws.write_string(i, 0, _clean(text), fmt)
    top = HEADING_ROWS
    for j, (label, width) in enumerate(zip(HEADERS, WIDTHS, strict=True)):
        ws.write_string(top, j, label, header)
        ws.set_column(j, j, width)
    for i, line in enumerate(lines, start=top + 1):
        ws.write_number(i, 0, line.number, body)
        values = (line.form_label, line.cell, line.column, line.value,
                  SEVERITY_LABELS.get(line.severity, line.severity), line.message)
        for j, value in enumerate(values, start=1):
            fmt = error if j == 5 and line.severity == "error" else body
            ws.write_string(i, j, value, fmt)
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
    lines = _lines(submission, campaign)
    path = submission.path
    if path is not None and path.suffix.lower() in OPENPYXL_SUFFIXES:
        try:
            return _annotated(submission, campaign, lines)
        except Exception:  # any broken or exotic workbook: the list alone still helps
            pass
    return _standalone(submission, campaign, lines)


def feedback_or_reason(submission: Submission, campaign: Campaign) -> bytes | str:
    """One feedback workbook for :func:`toolkit.outputs.write_outputs`: the XML patch of
    the unit's own file where it applies, :func:`feedback_bytes` otherwise; the reason, as
    text, when a file defeats both — the unit's file is untrusted and must not stop the run."""
    from toolkit.feedback_xml import feedback_bytes_fast

    try:
        return feedback_bytes_fast(submission, campaign) or feedback_bytes(submission, campaign)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
