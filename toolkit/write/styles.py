"""The look of every workbook the toolkit writes: formats, the heading block of a Đoàn
document, merged headers and print setup.

Templates and summaries both call these helpers, so a clerk sees one consistent document
style (Times New Roman, bordered tables, A4 landscape one page wide) and the look is changed
in one place. Positions always come from :mod:`toolkit.spec.layout`; nothing here computes where a
form's cells are.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import unicodedata
from collections.abc import Iterable
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from toolkit.spec.campaign import Campaign
from toolkit.spec.confirm import CONFIRM_LABEL, ConfirmPlace, confirm_hint
from toolkit.spec.layout import (
    DOTS,
    HEADER_TOP,
    NUMBER_TITLE_ROW,
    ORG_ROW,
    SOURCE_ROW,
    STARS_ROW,
    TITLE_ROW,
    UNIT_ROW,
    FormLayout,
    heading_split,
)

FONT = "Times New Roman"
FONT_SIZE = 11
INPUT_FILL = "#FFF2CC"  # light yellow: "type here"
HEADER_FILL = "#F2F2F2"
RATIO_FORMAT = "0.0%"
NUM_FORMATS = {
    "count": "#,##0",
    "number": "#,##0.###",
    "money": "#,##0.0##",
    "percent": "0.0",
    "date": "dd/mm/yyyy",
    "text": "@",
    "choice": "@",
}
NATIONAL = "ĐOÀN TNCS HỒ CHÍ MINH"
PLACE_DATE = "……, ngày … tháng … năm ……"
PLACE_BLANK = "……"
SIGNERS = ("NGƯỜI LẬP BIỂU", ("TM. BAN THƯỜNG VỤ", "BÍ THƯ"))
SIGNATURE_SPACE = 3  # blank rows for the signature and seal
SIGNATURE_ROWS = 2 + SIGNATURE_SPACE + 1  # titles, space, the name line
SIGNATURE_ROW_PT = 18.0
GAP_ROW_PT = 8.0  # the blank rows around a template's confirmation row
# Printed width: A4 landscape unless the table would print below MIN_SCALE (≈ 9 pt), then A3.
PAPER_A4, PAPER_A3 = 9, 8
SIDE_MARGIN = 0.25  # inches, left and right
PRINTABLE_PX = {PAPER_A4: (11.69 - 2 * SIDE_MARGIN) * 96, PAPER_A3: (16.54 - 2 * SIDE_MARGIN) * 96}
MIN_SCALE = 0.82
# LibreOffice lays a column of width w out as (w + 0.71) × 7.4 px (the stored width includes
# xlsxwriter's padding; Carlito's digit is wider than Excel's 7 px): the wider of the two
# decides the paper, so neither prints below 9 pt.
PRINT_PX_PER_UNIT, STORED_PADDING = 7.4, 0.71
# Options for every workbook: text is always text (formula injection, "0123" codes, URLs).
WORKBOOK_OPTIONS: dict[str, Any] = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
# Users may widen columns and rows, nothing else.
PROTECT_OPTIONS: dict[str, Any] = {
    "format_columns": True,
    "format_rows": True,
    "insert_rows": False,
    "insert_columns": False,
    "delete_rows": False,
    "delete_columns": False,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}
# Words for the document kind, from the code in its number (161-KH/ĐTN → Kế hoạch).
DOCUMENT_KINDS = {
    "KH": "Kế hoạch",
    "HD": "Hướng dẫn",
    "CV": "Công văn",
    "NQ": "Nghị quyết",
    "QĐ": "Quyết định",
    "CT": "Chỉ thị",
    "CTR": "Chương trình",
    "TB": "Thông báo",
    "BC": "Báo cáo",
}


class Styles:
    """Format cache of one workbook: each distinct look is created once (xlsxwriter keeps
    every Format object, so creating one per cell would bloat styles.xml)."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._asked: dict[tuple[tuple[str, Any], ...], Format] = {}  # props as a caller gave

    def get(self, **props: Any) -> Format:
        """A format with the house font plus ``props`` (xlsxwriter property names)."""
        asked = tuple(props.items())  # a summary asks ~150,000 times for a few dozen looks
        found = self._asked.get(asked)
        if found is None:
            full = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "vcenter", **props}
            key = tuple(sorted(full.items()))
            if key not in self._cache:
                self._cache[key] = self.workbook.add_format(full)
            found = self._asked[asked] = self._cache[key]
        return found

    # ----------------------------------------------------------------- named looks
    def heading(self, *, bold: bool = False, italic: bool = False,
                underline: bool = False, size: int = 12) -> Format:
        return self.get(bold=bold, italic=italic, underline=1 if underline else 0,
                        font_size=size, align="center", text_wrap=True)

    def title(self) -> Format:
        return self.get(bold=True, font_size=13, align="center", text_wrap=True)

    def header(self) -> Format:
        return self.get(bold=True, align="center", text_wrap=True, border=1,
                        bg_color=HEADER_FILL)

    def number_row(self) -> Format:
        return self.get(italic=True, font_size=10, align="center", border=1)

    def label(self, *, bold: bool = False, align: str = "left") -> Format:
        return self.get(bold=bold, align=align, text_wrap=True, border=1)

    def input(self, ctype: str) -> Format:
        """An unlocked, shaded cell a unit types into."""
        align = "left" if ctype in ("text", "choice") else "right"
        return self.get(border=1, bg_color=INPUT_FILL, locked=False, align=align,
                        num_format=NUM_FORMATS[ctype], text_wrap=ctype == "text")

    def value(self, ctype: str, *, bold: bool = False) -> Format:
        """A locked, bordered value cell (totals, summary figures)."""
        align = "left" if ctype in ("text", "choice") else "right"
        return self.get(border=1, bold=bold, align=align, num_format=NUM_FORMATS[ctype],
                        text_wrap=ctype == "text")

    def ratio(self, *, bold: bool = False) -> Format:
        return self.get(border=1, bold=bold, align="right", num_format=RATIO_FORMAT)

    def text(self, *, bold: bool = False, italic: bool = False, wrap: bool = True,
             size: int = FONT_SIZE, align: str = "left", border: int = 0) -> Format:
        return self.get(bold=bold, italic=italic, text_wrap=wrap, font_size=size, align=align,
                        border=border)


# --------------------------------------------------------------------------- helpers


def fmt_date(day: dt.date | None) -> str:
    """dd/mm/yyyy as a Vietnamese clerk writes it; empty for no date."""
    return day.strftime("%d/%m/%Y") if day else ""


def document_kind(document_number: str) -> str:
    """``161-KH/ĐTN`` → ``Kế hoạch`` (``Văn bản`` when the code is unknown)."""
    code = document_number.split("-", 1)[-1].split("/", 1)[0].strip().upper()
    return DOCUMENT_KINDS.get(code, "Văn bản")


def source_line(campaign: Campaign, office: str | None = None) -> str:
    """``(Kèm theo Kế hoạch số 161-KH/ĐTN ngày 06/01/2021 của BTV Huyện đoàn Thọ Xuân)``.

    ``office`` is the office whose summary this is: at a level above the issuer (the
    province rolling up a district's plan) the line says whose summary it is and whose
    plan it follows, not "kèm theo" another office's plan."""
    plan = (f"{document_kind(campaign.document_number)} số {campaign.document_number} ngày "
            f"{fmt_date(campaign.document_date)} của {campaign.issuer}")
    if office and office.casefold() not in campaign.issuer.casefold():
        return f"(Tổng hợp của {office} theo {plan[:1].lower()}{plan[1:]})"
    return f"(Kèm theo {plan})"


def place_date(place: str = "", day: dt.date | None = None) -> str:
    """``Thọ Xuân, ngày 19 tháng 01 năm 2021``; dots for what is not known yet."""
    where = place or PLACE_BLANK
    if day is None:
        return f"{where}, ngày … tháng … năm ……"
    return f"{where}, ngày {day:%d} tháng {day:%m} năm {day:%Y}"


# Advance widths of Times New Roman in thousandths of an em (its AFM metrics); a letter with
# Vietnamese marks is as wide as its base letter. LibreOffice prints it as Liberation Serif,
# which has the same metrics.
_LOWER = dict(zip("abcdefghijklmnopqrstuvwxyz",
                  (444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500,
                   500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444), strict=True))
_UPPER = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                  (722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722,
                   556, 722, 667, 556, 611, 722, 722, 944, 722, 722, 611), strict=True))
_OTHER = {" ": 250, ",": 250, ".": 250, ":": 278, ";": 278, "/": 278, "(": 333, ")": 333,
          "-": 333, "%": 833, "…": 1000, "–": 500, "—": 1000, "›": 333, "\'": 180, '"': 408}
PX_PER_UNIT = 7.0  # a column width unit is one digit of the workbook's default font (7 px)
CELL_PADDING_PX = 8.0  # what a cell's margins and border take from its width
LINE_PT = 1.2  # a printed line of Times New Roman is about 1.15 × the font size


@functools.lru_cache(maxsize=4096)
def char_em(ch: str) -> float:
    """Advance of one character in ems (1000 units)."""
    base = unicodedata.normalize("NFD", ch)[:1] or ch
    base = {"đ": "d", "Đ": "D"}.get(base, base)
    if base in _LOWER:
        return _LOWER[base] / 1000
    if base in _UPPER:
        return _UPPER[base] / 1000
    if base.isdigit():
        return 0.5
    return _OTHER.get(base, 560) / 1000


def text_px(text: str, *, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Printed width of ``text`` in pixels (96 dpi); bold Times is about 7 % wider."""
    return _text_em(text) * size * 96 / 72 * (1.07 if bold else 1.0)


@functools.lru_cache(maxsize=65536)
def _text_em(text: str) -> float:
    """The advance of ``text`` in ems: a summary measures the same names and words again
    and again (2,000 units' rows), so each distinct text is added up once."""
    return sum(char_em(ch) for ch in text)


def text_lines(text: str, width: float, *, bold: bool = False) -> int:
    """Rough number of wrapped lines ``text`` needs in ``width`` *characters* (one character
    per width unit). Kept for the campaign workbook (:mod:`toolkit.author.workbook`, which
    scales the width itself); sheets a clerk prints use :func:`wrapped_lines`."""
    usable = max(width - 1.0, 1.0)
    factor = 1.12 if bold else 1.0
    return sum(max(1, math.ceil(len(part) * factor / usable)) for part in text.split("\n"))


def wrapped_lines(text: str, width: float, *, bold: bool = False,
                  size: float = FONT_SIZE) -> int:
    """Lines ``text`` takes when wrapped by words in a column (or merged span) ``width`` units
    wide — the one estimate behind every row height the toolkit sets (LibreOffice and Excel
    keep a stored height and do not grow a row when they open the file)."""
    usable = max(width * PX_PER_UNIT - CELL_PADDING_PX, 10.0)
    space = text_px(" ", size=size, bold=bold)
    lines = 0
    for part in str(text).split("\n"):
        lines += 1
        used = 0.0
        for word in part.split():
            need = text_px(word, size=size, bold=bold)
            if used and used + space + need <= usable:
                used += space + need
                continue
            if used:
                lines += 1
            while need > usable:  # a word longer than the column breaks anywhere
                lines += 1
                need -= usable
            used = need
    return max(lines, 1)


def row_height(cells: Iterable[tuple[str, float]], *, bold: bool = False,
               size: float = FONT_SIZE, minimum: float = 0.0, padding: float = 3.0) -> float:
    """Height (points) of a row holding wrapped ``(text, width)`` cells: the tallest cell's
    lines × the line height, at least ``minimum``; Excel's limit is 409."""
    lines = max((wrapped_lines(t, w, bold=bold, size=size) for t, w in cells if t), default=1)
    return min(409.0, max(minimum, LINE_PT * size * lines + padding))


def span_width(layout_widths: dict[int, float], first: int, last: int) -> float:
    return sum(layout_widths.get(c, 8.43) for c in range(first, last + 1))


def write_text(ws: Worksheet, first_row: int, first_col: int, last_row: int, last_col: int,
               text: str, fmt: Format) -> None:
    """Write ``text`` as a string into a cell or a merged range (never as a formula)."""
    if (first_row, first_col) != (last_row, last_col):
        ws.merge_range(first_row, first_col, last_row, last_col, "", fmt)
    ws.write_string(first_row, first_col, text, fmt)


def write_heading(
    ws: Worksheet,
    styles: Styles,
    widths: dict[int, float],
    last_col: int,
    *,
    org: str,
    unit: str,
    number: str,
    title: str,
    source: str,
    place_date: str = PLACE_DATE,
) -> None:
    """The heading block of a Đoàn document, the number line, title and source line, over
    columns ``0..last_col`` of the given widths (a form's ``layout.widths``).

    ``org`` is the superior organisation, ``unit`` the issuing unit (both shown uppercased).
    """
    last = last_col
    split = heading_split(widths, last)
    left_w = span_width(widths, 0, split)
    write_text(ws, ORG_ROW, 0, ORG_ROW, split, org.upper(), styles.heading())
    write_text(ws, UNIT_ROW, 0, UNIT_ROW, split, unit.upper(), styles.heading(bold=True))
    write_text(ws, STARS_ROW, 0, STARS_ROW, split, "***", styles.heading())
    if split < last:
        write_text(ws, ORG_ROW, split + 1, ORG_ROW, last, NATIONAL,
                   styles.heading(bold=True, underline=True))
        write_text(ws, UNIT_ROW, split + 1, UNIT_ROW, last, place_date,
                   styles.heading(italic=True))
    ws.set_row(ORG_ROW, row_height([(org.upper(), left_w)], size=12, minimum=17))
    ws.set_row(UNIT_ROW, row_height([(unit.upper(), left_w)], bold=True, size=12, minimum=17))
    full = span_width(widths, 0, last)
    write_text(ws, NUMBER_TITLE_ROW, 0, NUMBER_TITLE_ROW, last, number.upper(),
               styles.heading(bold=True))
    write_text(ws, TITLE_ROW, 0, TITLE_ROW, last, title, styles.title())
    ws.set_row(TITLE_ROW, row_height([(title, full)], bold=True, size=13, minimum=19))
    write_text(ws, SOURCE_ROW, 0, SOURCE_ROW, last, source, styles.heading(italic=True, size=11))
    ws.set_row(SOURCE_ROW, row_height([(source, full)], minimum=16))


def write_header(ws: Worksheet, styles: Styles, layout: FormLayout) -> None:
    """The merged multi-level header, row heights that fit it, and the ``(1) (2) …`` row."""
    fmt = styles.header()
    heights = dict.fromkeys(range(HEADER_TOP, layout.number_row), 18.0)
    spans = []
    for cell in layout.header_cells:
        write_text(ws, cell.first_row, cell.first_col, cell.last_row, cell.last_col,
                   cell.label, fmt)
        width = span_width(layout.widths, cell.first_col, cell.last_col)
        spans.append((cell, row_height([(cell.label, width)], bold=True, padding=4)))
    # Single-row cells set their row's height; a cell spanning rows grows its last row.
    for cell, need in spans:
        if cell.first_row == cell.last_row:
            heights[cell.first_row] = max(heights[cell.first_row], need)
    for cell, need in spans:
        have = sum(heights[r] for r in range(cell.first_row, cell.last_row + 1))
        if have < need:
            heights[cell.last_row] += need - have
    for row, height in heights.items():
        ws.set_row(row, height)
    for col in range(layout.ncols):
        ws.write_string(layout.number_row, col, f"({col + 1})", styles.number_row())


def write_confirm(ws: Worksheet, styles: Styles, widths: dict[int, float],
                  place: ConfirmPlace, example: str) -> None:
    """The confirmation row of a template (:mod:`toolkit.spec.confirm`): the label and its
    hint on the left, locked; the unit's text cell, unlocked and shaded like every input,
    merged over the rest of the table's width."""
    row, (l0, l1), (i0, i1) = place.row, place.label_cols, place.input_cols
    label, hint = f"{CONFIRM_LABEL}: ", confirm_hint(example)
    box = styles.get(text_wrap=True, align="left", border=1)
    if (l0, l1) != (l0, l0):
        ws.merge_range(row, l0, row, l1, "", box)
    ws.write_rich_string(row, l0, styles.get(bold=True), label,
                         styles.get(italic=True, font_size=10), hint, box)
    fmt = styles.input("text")
    if i1 > i0:
        ws.merge_range(row, i0, row, i1, "", fmt)
    else:
        ws.write_blank(row, i0, None, fmt)
    ws.set_row(row, row_height([(label + hint, span_width(widths, l0, l1))], minimum=28.0))
    for gap in (row - 1, row + 1):  # thin rows around it: a one-page form stays one page
        ws.set_row(gap, GAP_ROW_PT)


def write_signature(ws: Worksheet, styles: Styles, widths: dict[int, float], last_col: int,
                    top: int, header_last: int | None = None,
                    keep_from: int | None = None) -> int:
    """The signature block under a table, from row ``top``: "NGƯỜI LẬP BIỂU" on the left,
    "TM. BAN THƯỜNG VỤ / BÍ THƯ" on the right, room to sign, the names left blank; kept on
    one page (a page break before it when the table's last page has no room for it).
    ``header_last`` is the last of the header rows repeated on every page; ``keep_from``
    the first row that goes to the next page with the block (the table's last row, so that
    the block never stands alone under a repeated header). Call it after the rows above
    have their heights. Returns the last row used."""
    split = heading_split(widths, last_col)
    maker, (board, chief) = SIGNERS
    bold = styles.heading(bold=True)
    hint = styles.heading(italic=True, size=11)
    name = styles.heading(bold=True)
    right = (split + 1, last_col) if split < last_col else (0, last_col)
    write_text(ws, top, 0, top, split, maker, bold)
    write_text(ws, top + 1, 0, top + 1, split, "(Ký, ghi rõ họ tên)", hint)
    write_text(ws, top, right[0], top, right[1], board, bold)
    write_text(ws, top + 1, right[0], top + 1, right[1], chief, bold)
    last = top + 2 + SIGNATURE_SPACE
    write_text(ws, last, 0, last, split, DOTS, name)
    write_text(ws, last, right[0], last, right[1], DOTS, name)
    for row in range(top, last + 1):
        ws.set_row(row, SIGNATURE_ROW_PT)
    first = top if keep_from is None or keep_from <= (header_last or -1) + 1 else keep_from
    if _splits(ws, widths, first, last, header_last):
        ws.set_h_pagebreaks([first])  # the whole block starts the next page
    return last


def _splits(ws: Worksheet, widths: dict[int, float], top: int, last: int,
            header_last: int | None) -> bool:
    """Whether rows ``top..last`` would be cut by a page end, from the heights set so far
    (15 pt where none was set), the paper's height and the fit-to-width scale. The header
    rows a form repeats on every page are counted on every page after the first."""
    info = getattr(ws, "row_info", None)  # xlsxwriter keeps the heights set_row was given
    if not isinstance(info, dict):
        return False

    def stored(row: int) -> float | None:
        value = getattr(info.get(row), "height", None)
        return float(value) if isinstance(value, (int, float)) else None

    # the block's last row was just set to SIGNATURE_ROW_PT: its stored value tells whether
    # this xlsxwriter keeps points or pixels
    unit = (stored(last) or SIGNATURE_ROW_PT) / SIGNATURE_ROW_PT

    def height(row: int) -> float:
        value = stored(row)
        return 15.0 if value is None else value / unit

    paper = paper_for(widths)
    long_side, short_side = {PAPER_A4: (11.69, 8.27), PAPER_A3: (16.54, 11.69)}[paper]
    px = sum((w + STORED_PADDING) * PRINT_PX_PER_UNIT for w in widths.values())
    scale = min(1.0, (long_side - 2 * SIDE_MARGIN) * 96 / px)
    page = (short_side - 1.0 - 0.3) * 72 / scale  # top/bottom margins and the footer
    repeat = (sum(height(r) for r in range(HEADER_TOP, header_last + 1))
              if header_last is not None else 0.0)
    used = 0.0
    for row in range(top):
        h = height(row)
        if used + h > page:
            used = repeat
        used += h
    block = sum(height(r) for r in range(top, last + 1))
    return used + block > page


def paper_for(widths: dict[int, float]) -> int:
    """A4 when the table prints at ≥ :data:`MIN_SCALE` on A4 landscape, else A3."""
    px = sum((w + STORED_PADDING) * PRINT_PX_PER_UNIT for w in widths.values())
    return PAPER_A4 if px * MIN_SCALE <= PRINTABLE_PX[PAPER_A4] else PAPER_A3


def setup_print(
    ws: Worksheet,
    widths: dict[int, float],
    *,
    last_row: int,
    last_col: int,
    repeat: tuple[int, int] | None = None,
    freeze: tuple[int, int] | None = None,
    landscape: bool = True,
) -> None:
    """Column widths, one page wide on A4 (A3 for a table that would print below ≈ 9 pt,
    see :func:`paper_for`), optional repeated rows and frozen panes."""
    for col, width in widths.items():
        ws.set_column(col, col, width)
    if landscape:
        ws.set_landscape()
        ws.set_paper(paper_for(widths))
    else:
        ws.set_portrait()
        ws.set_paper(PAPER_A4)
    ws.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN, top=0.5, bottom=0.5)
    ws.center_horizontally()
    ws.fit_to_pages(1, 0)
    if repeat is not None:
        ws.repeat_rows(*repeat)
    ws.print_area(0, 0, last_row, last_col)
    if freeze is not None:
        ws.freeze_panes(*freeze)
    ws.hide_gridlines(2)
    ws.set_footer('&C&"Times New Roman"&10Trang &P/&N')


def setup_sheet(ws: Worksheet, layout: FormLayout, *, last_row: int | None = None) -> None:
    """A form sheet: A4 landscape one page wide, header rows repeated, panes frozen below
    the header."""
    setup_print(ws, layout.widths,
                last_row=layout.last_row if last_row is None else last_row,
                last_col=layout.last_col, repeat=(HEADER_TOP, layout.number_row),
                freeze=(layout.first_data_row, 1))


def set_properties(workbook: Workbook, *, title: str, subject: str, author: str,
                   created: dt.datetime, identity: dict[str, str]) -> None:
    """Document properties with a fixed creation time (reproducible files) and the identity
    keys as *text* custom properties (LibreOffice keeps text, mangles numbers)."""
    workbook.set_properties({
        "title": title,
        "subject": subject,
        "author": author,
        "company": author,
        "comments": "Tạo bằng toolkit — không sửa trang tính _meta.",
        "created": created,
    })
    for key, value in identity.items():
        workbook.set_custom_property(key, str(value), "text")


def setup_guide_print(ws: Worksheet, last_row: int) -> None:
    """An instruction sheet (two columns of text) printed on A4 portrait, one page wide."""
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.5, top=0.6, bottom=0.6)
    ws.print_area(0, 0, last_row, 1)
    ws.hide_gridlines(2)
