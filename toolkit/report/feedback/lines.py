"""What a feedback workbook says, whichever path writes it: the heading lines, one
:class:`Line` per finding in reading order, the list sheet's columns, colours and row heights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.spec.campaign import Campaign
from toolkit.spec.layout import rowcol
from toolkit.spec.models import Finding, Submission
from toolkit.write.styles import FONT, FONT_SIZE
from toolkit.write.styles import row_height as fit_height

FEEDBACK_SHEET = "Lỗi cần sửa"
AUTHOR = "toolkit"
ERROR_FILL = "FFC7CE"  # Excel's "bad" red
WARNING_FILL = "F8CBAD"  # orange: template input cells are already yellow
HEADERS = ("TT", "Phụ lục", "Ô", "Cột", "Giá trị đã nhập", "Mức độ", "Nội dung cần sửa")
WIDTHS = (5, 12, 8, 40, 20, 10, 70)
HEADING_ROWS = 6  # title, unit, plan, file, what to do, blank
OPENPYXL_SUFFIXES = (".xlsx", ".xlsm")
MAX_TEXT = 32000  # Excel keeps at most 32,767 characters in a cell
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FONT_NAME, BODY_SIZE = FONT, FONT_SIZE  # the house style: every cell names Times New Roman


@dataclass(frozen=True)
class Line:
    """One finding as a row of the list."""

    number: int
    form_label: str
    sheet: str
    cell: str
    column: str
    value: str
    severity: str
    message: str


def clean(text: object) -> str:
    """Text that can go into any xlsx cell: no XML-illegal control characters, not too long."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", "" if text is None else str(text))[:MAX_TEXT]


def sort_key(campaign: Campaign, index: int, finding: Finding) -> tuple[int, int, int, int]:
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


def finding_lines(submission: Submission, campaign: Campaign) -> list[Line]:
    ordered = sorted(enumerate(submission.findings), key=lambda p: sort_key(campaign, *p))
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
        lines.append(Line(n, clean(form_label), sheet, clean(f.cell), clean(column),
                           clean(f.value), f.severity, clean(f.message)))
    return lines


def heading(submission: Submission, campaign: Campaign, marked: bool) -> list[str]:
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


def location(sheet: str, cell: str) -> str:
    """Internal link target ``'PL2'!E9`` (quotes doubled inside the sheet name)."""
    return "'{}'!{}".format(sheet.replace("'", "''"), cell)


def row_height(values: Sequence[str]) -> float:
    """Rows tall enough for the wrapped text of columns 2… (openpyxl does not size rows;
    LibreOffice and Excel keep the stored height)."""
    return fit_height(zip((str(v) for v in values), WIDTHS[1:], strict=False), minimum=15.0)
