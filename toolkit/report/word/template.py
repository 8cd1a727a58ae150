"""The built-in report template (``bao-cao.docx`` beside this module), made by code so that
it is reproducible: ``python -m toolkit.report.word.template`` writes it again.

The layout follows Hướng dẫn 29-HD/TWĐTN-VP on the Đoàn's documents, and Nghị định
30/2020/NĐ-CP where that is silent: A4, margins 20/20/30/15 mm (top/bottom/left/right),
Times New Roman, body 14 pt justified with a first-line indent, page numbers at the top
centre from page 2; the heading as a two-column block without borders (superior and issuing
body, ``***``, ``Số: …`` on the left; ``ĐOÀN TNCS HỒ CHÍ MINH`` underlined and place and date
on the right); the title BÁO CÁO and the subject; "Nơi nhận" and the signature at the end.
The text is Jinja (docxtpl): an office copies this file, edits it in Word and passes it as
``--template``; the names it may use are :data:`toolkit.report.word.context.TEMPLATE_NAMES`.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

TEMPLATE_PATH = Path(__file__).with_name("bao-cao.docx")
FONT = "Times New Roman"
BODY_PT = 14
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
FIRST_LINE_CM = 1.0
FIXED_DATE = dt.datetime(2025, 1, 1)


def set_font(element: Any, name: str = FONT) -> None:
    """Times New Roman for every script of a style or run (Word picks the East Asian and
    complex-script fonts for some Vietnamese letters otherwise)."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def no_borders(table: Any) -> None:
    """A layout table: no borders at all."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def page_field(paragraph: Any) -> None:
    """A PAGE field: Word and LibreOffice print the page number there."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"),
                       ("end", None)):
        if kind is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == " PAGE ":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def _para(container: Any, text: str = "", *, bold: bool = False, italic: bool = False,
          underline: bool = False, size: float | None = None, center: bool = False,
          indent: bool = True, after: float | None = None, highlight: bool = False) -> Any:
    p = container.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if center or not indent:
        p.paragraph_format.first_line_indent = Cm(0)
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    if text:
        run = p.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size is not None:
            run.font.size = Pt(size)
        if highlight:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return p


def _tag(container: Any, tag: str) -> None:
    """A paragraph holding only a docxtpl block tag (``{%p … %}``): removed when rendered."""
    _para(container, tag, indent=False, after=0)


def _cell(table: Any, col: int) -> Any:
    cell = table.cell(0, col)
    cell._tc.remove(cell.paragraphs[0]._p)  # start empty; paragraphs are added below
    return cell


def build_template() -> Any:
    """The built-in template as a python-docx document."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    set_font(normal.element)
    fmt = normal.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = Cm(FIRST_LINE_CM)
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(6), 1.1
    for style in doc.styles:  # headers, tables… in Times New Roman too
        if hasattr(style, "font") and style.name != "Normal":
            style.font.name = FONT
            set_font(style.element)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]  # the header's own (only) paragraph
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.paragraph_format.first_line_indent = Cm(0)
    page_field(number)
    number.runs[0].font.size = Pt(13)

    heading = doc.add_table(rows=1, cols=2)
    heading.alignment = WD_TABLE_ALIGNMENT.CENTER
    heading.autofit = False
    no_borders(heading)
    for col, width in ((0, Cm(8.3)), (1, Cm(8.2))):
        heading.columns[col].width = width
        heading.cell(0, col).width = width
    left, right = _cell(heading, 0), _cell(heading, 1)
    _tag(left, "{%p if heading.superior %}")
    _para(left, "{{ heading.superior }}", size=13, center=True, after=0)
    _tag(left, "{%p endif %}")
    _para(left, "{{ heading.issuer }}", bold=True, size=13, center=True, after=0)
    _para(left, "***", center=True, after=0)
    _para(left, "{{ heading.number }}", center=True, after=0)
    _para(right, "ĐOÀN TNCS HỒ CHÍ MINH", bold=True, underline=True, size=15, center=True,
          after=6)
    _para(right, "{{ heading.place_date }}", italic=True, center=True, after=0)

    _para(doc, "", after=0)
    _para(doc, "{{ title }}", bold=True, size=15, center=True, after=0)
    _para(doc, "{{ subject }}", bold=True, center=True, after=0)
    _para(doc, "-----", center=True, after=6)
    _para(doc, "{{ intro }}")

    _tag(doc, "{%p for s in sections %}")
    _tag(doc, "{%p if s.level == 1 %}")
    _para(doc, "{{ s.heading }}", bold=True)
    _tag(doc, "{%p elif s.level == 2 %}")
    _para(doc, "{{ s.heading }}", bold=True)
    _tag(doc, "{%p elif s.level == 3 %}")
    _para(doc, "{{ s.heading }}", bold=True, italic=True)
    _tag(doc, "{%p else %}")
    _para(doc, "{{ s.heading }}", italic=True)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for line in s.sentences %}")
    _para(doc, "{{ line }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if s.placeholder %}")
    _para(doc, "[{{ s.placeholder }}]", italic=True, highlight=True)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if s.notes %}")
    _para(doc, "Ghi chú của các đơn vị (để tham khảo khi viết; xóa khi hoàn thành):",
          italic=True, size=13, highlight=True)
    _tag(doc, "{%p for n in s.notes %}")
    _para(doc, "- {{ n }}", italic=True, size=13)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endfor %}")

    _para(doc, "", after=0).paragraph_format.keep_with_next = True
    sign = doc.add_table(rows=1, cols=2)
    sign.autofit = False
    no_borders(sign)
    cant_split = OxmlElement("w:cantSplit")  # the signature block stays on one page
    sign.rows[0]._tr.get_or_add_trPr().append(cant_split)
    for col, width in ((0, Cm(8.0)), (1, Cm(8.5))):
        sign.columns[col].width = width
        sign.cell(0, col).width = width
    left, right = _cell(sign, 0), _cell(sign, 1)
    _para(left, "Nơi nhận:", bold=True, italic=True, size=12, indent=False, after=0)
    _tag(left, "{%p for r in recipients %}")
    _para(left, "- {{ r }}", size=11, indent=False, after=0)
    _tag(left, "{%p endfor %}")
    _para(right, "{{ signer.for_line }}", bold=True, size=13, center=True, after=0)
    _para(right, "{{ signer.title }}", bold=True, center=True, after=0)
    for _ in range(4):
        _para(right, "", center=True, after=0)
    _para(right, "{{ signer.name }}", bold=True, center=True, after=0)
    props = doc.core_properties
    props.author, props.title = "toolkit", "Mẫu báo cáo"
    props.created = props.modified = FIXED_DATE
    props.last_modified_by, props.revision = "toolkit", 1
    return doc


def template_bytes() -> bytes:
    """The built-in template as ``.docx`` bytes."""
    buffer = io.BytesIO()
    build_template().save(buffer)
    return buffer.getvalue()


def builtin_template() -> bytes:
    """The committed template file (what ``toolkit report`` uses without ``--template``)."""
    return TEMPLATE_PATH.read_bytes()


if __name__ == "__main__":  # pragma: no cover - regenerates the committed file
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE_PATH
    out.write_bytes(template_bytes())
    print(f"wrote {out}")
