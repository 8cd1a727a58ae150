"""Feedback workbooks open whatever program last saved the unit's file (issue 13, item 2b).

A unit's filled template, with mistakes the pipeline reports, is saved again by the
programs units really use — openpyxl with lxml (what any pandas script produces: ``r:``
declared on each ``<sheet>``), openpyxl without lxml, LibreOffice, Gnumeric, and an
"Excel-like" writer (the main namespace under the prefix ``x:``, ``mc:Ignorable`` with
``x14ac``, defined names holding a formula and an external reference) — then consolidated.
Both feedback writers' workbooks are opened again with openpyxl and with calamine: the
marked cells, their notes and the list sheet must read back, and no defined name of the
unit's file other than print areas and titles may come along. LibreOffice renders two of
them to PDF with the list's text in it.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from builders import cell_of
from lo import (  # noqa: F401  (libreoffice_required: autouse fixture)
    convert_to_pdf,
    in_ci,
    libreoffice_required,
    pdf_text,
    require_poppler,
)
from lxml import etree
from python_calamine import CalamineWorkbook

from toolkit._infra.soffice import convert
from toolkit.pipeline import consolidate
from toolkit.report.feedback import FEEDBACK_SHEET, feedback_bytes, feedback_or_reason
from toolkit.report.feedback.lines import ERROR_FILL
from toolkit.report.feedback.xml_patch import feedback_bytes_fast
from toolkit.spec.load import load_campaign
from toolkit.spec.models import Submission
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
UNIT = Unit("TX05", "Đoàn xã Xuân Trường", "co_so", "TX", "x@example.invalid")
OFFICE = Unit("TX", "Huyện đoàn Thọ Xuân", "huyen", "TDTH", "tx@example.invalid")
UNITS = UnitRegistry({u.code: u for u in (
    Unit("TDTH", "Tỉnh đoàn", "tinh", "", "t@example.invalid"), OFFICE, UNIT)})
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
XR = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision"
# the mistakes typed into the unit's file: (form, row, column) → value
MISTAKES = {("PL4", "2019", "co_so_so_nguoi"): "12 người",
            ("PL6", "2018", "giam_sat_so_cuoc"): 2.5}
EXPECTED = {(form, cell_of(CAMPAIGN, form, row, col), value)
            for (form, row, col), value in MISTAKES.items()}
PRINT_NAMES = {"_xlnm.Print_Area", "_xlnm.Print_Titles"}


@pytest.fixture(scope="module")
def filled() -> bytes:
    values = sample_values(CAMPAIGN, random.Random("feedback-writers"))
    values.update(MISTAKES)
    return fill_workbook(template_bytes(CAMPAIGN, UNIT, OFFICE), values)


# --------------------------------------------------------------------------- writers


def openpyxl_lxml(data: bytes, tmp: Path) -> bytes:
    import openpyxl.xml

    assert openpyxl.xml.LXML, "openpyxl should write with lxml here"
    out = io.BytesIO()
    openpyxl.load_workbook(io.BytesIO(data)).save(out)
    return out.getvalue()


def openpyxl_etree(data: bytes, tmp: Path) -> bytes:
    """openpyxl in a process where lxml cannot be imported (its xml.etree writer)."""
    script = textwrap.dedent("""
        import io, sys
        sys.modules["lxml"] = None
        import openpyxl, openpyxl.xml
        assert not openpyxl.xml.LXML
        out = io.BytesIO()
        openpyxl.load_workbook(io.BytesIO(sys.stdin.buffer.read())).save(out)
        sys.stdout.buffer.write(out.getvalue())
    """)
    done = subprocess.run([sys.executable, "-c", script], input=data, capture_output=True,
                          timeout=120, check=True)
    return done.stdout


def libreoffice(data: bytes, tmp: Path) -> bytes:
    return convert(data, "xlsx", "xlsx:Calc MS Excel 2007 XML")


def gnumeric(data: bytes, tmp: Path) -> bytes:
    if shutil.which("ssconvert") is None:  # .ci/run installs it: there, missing is a failure
        (pytest.fail if in_ci() else pytest.skip)(
            "Gnumeric's ssconvert is not installed (apt-get install gnumeric)")
    src, dst = tmp / "in.xlsx", tmp / "out.xlsx"
    src.write_bytes(data)
    subprocess.run(["ssconvert", "--export-type=Gnumeric_Excel:xlsx2", str(src), str(dst)],
                   capture_output=True, timeout=120, check=True)
    return dst.read_bytes()


def _prefixed(el, nsmap):
    """A copy of ``el`` whose elements use the prefixes of ``nsmap`` (declared on it)."""
    new = etree.Element(el.tag, nsmap=nsmap)
    _copy(el, new)
    return new


def _copy(src, dst) -> None:
    for key, value in src.attrib.items():
        dst.set(key, value)
    dst.text = src.text
    for each in src:
        if isinstance(each.tag, str):
            sub = etree.SubElement(dst, each.tag)
            _copy(each, sub)
            sub.tail = each.tail


def excel_like(data: bytes, tmp: Path) -> bytes:
    """The XML of a real file rewritten the way Excel-like writers declare namespaces: the
    main namespace as ``x:``, ``r``/``mc``/``x14ac``/``xr`` on each root, ``mc:Ignorable``,
    ``x14ac:dyDescent`` on rows; plus defined names a unit's own workbook may hold."""
    nsmap = {"x": MAIN, "r": REL, "mc": MC, "x14ac": X14AC, "xr": XR}
    parts = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            body = zf.read(info)
            root = etree.fromstring(body) if info.filename.endswith(".xml") else None
            if root is not None and etree.QName(root).namespace == MAIN:
                root = _prefixed(root, nsmap)
                root.set(f"{{{MC}}}Ignorable", "x14ac xr")
                for row in root.iter(f"{{{MAIN}}}row"):
                    row.set(f"{{{X14AC}}}dyDescent", "0.25")
                if etree.QName(root).localname == "workbook":
                    names = root.find(f"{{{MAIN}}}definedNames")
                    for name, text in (("Nguon_ngoai", "[1]Sheet1!$A$1"),
                                       ("Lien_ket", 'HYPERLINK("http://x.invalid","y")')):
                        el = etree.SubElement(names, f"{{{MAIN}}}definedName", name=name)
                        el.text = text
                body = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
            parts[info.filename] = body
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", 8) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return out.getvalue()


WRITERS = {
    "openpyxl-lxml": openpyxl_lxml,
    "openpyxl-etree": openpyxl_etree,
    "excel-like": excel_like,
    "libreoffice": libreoffice,
    "gnumeric": gnumeric,
}
NAMES = [pytest.param(n, marks=pytest.mark.libreoffice) if n == "libreoffice" else n
         for n in WRITERS]


# --------------------------------------------------------------------------- checks


def submission_of(data: bytes, tmp: Path) -> Submission:
    inbox = tmp / "inbox"
    inbox.mkdir()
    (inbox / "TX05.xlsx").write_bytes(data)
    (sub,) = consolidate(inbox, CAMPAIGN, UNITS, OFFICE).submissions
    assert sub.unit_code == UNIT.code and sub.status == "rejected", sub.findings
    return sub


def check_feedback(data: bytes) -> None:
    """The feedback workbook opens in openpyxl and calamine with everything in place."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == FEEDBACK_SHEET and wb.active.title == FEEDBACK_SHEET
    listed = {row[2] for row in wb[FEEDBACK_SHEET].iter_rows(min_row=8, values_only=True)}
    for sheet, cell, value in EXPECTED:
        target = wb[sheet][cell]
        assert target.value == value, (sheet, cell)
        assert target.fill.fgColor.rgb.endswith(ERROR_FILL), (sheet, cell)
        assert target.comment is not None and target.comment.text.startswith("Lỗi"), cell
        assert cell in listed
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names[0] == FEEDBACK_SHEET
    rows = book.get_sheet_by_name(FEEDBACK_SHEET).to_python()
    assert rows[0][0] == "PHẢN HỒI KIỂM TRA SỐ LIỆU"
    assert {cell for _s, cell, _v in EXPECTED} <= {r[2] for r in rows[7:]}
    for sheet, cell, value in EXPECTED:
        sheet_rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        col = openpyxl.utils.column_index_from_string("".join(c for c in cell if c.isalpha()))
        row = int("".join(c for c in cell if c.isdigit()))
        assert sheet_rows[row - 1][col - 1] == value
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        book_xml = etree.fromstring(zf.read("xl/workbook.xml"))
        assert not [n for n in zf.namelist() if "externalLink" in n]
    names = [(el.get("name"), el.text) for el in book_xml.iter(f"{{{MAIN}}}definedName")]
    assert {n for n, _t in names} <= PRINT_NAMES, names
    assert not any("[" in (t or "") or "(" in (t or "") for _n, t in names), names
    assert book_xml.find(f"{{{MAIN}}}externalReferences") is None


@pytest.mark.parametrize("name", NAMES)
def test_feedback_opens_whatever_program_saved_the_file(filled, tmp_path, name):
    saved = WRITERS[name](filled, tmp_path)
    sub = submission_of(saved, tmp_path)
    fast = feedback_bytes_fast(sub, CAMPAIGN)  # every one of them: no fallback needed
    assert fast is not None, "the XML patch declined a file it should handle"
    for data in (fast, feedback_bytes(sub, CAMPAIGN)):
        check_feedback(data)
    final = feedback_or_reason(sub, CAMPAIGN)
    assert isinstance(final, bytes)
    check_feedback(final)


@pytest.mark.libreoffice
def test_libreoffice_renders_feedback_of_other_writers(filled, tmp_path):
    require_poppler()
    paths = []
    for name in ("openpyxl-lxml", "excel-like"):
        folder = tmp_path / name
        folder.mkdir()
        sub = submission_of(WRITERS[name](filled, folder), folder)
        data = feedback_bytes_fast(sub, CAMPAIGN)
        assert data is not None
        paths.append(folder / f"{name}.xlsx")
        paths[-1].write_bytes(data)
    for pdf in convert_to_pdf(paths, tmp_path / "pdf"):
        text = pdf_text(pdf, 1)
        assert "PHẢN HỒI KIỂM TRA SỐ LIỆU" in text and "Đoàn xã Xuân Trường" in text, pdf
        assert any(cell in text for _s, cell, _v in EXPECTED), pdf
