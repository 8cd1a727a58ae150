"""The XML-patching feedback path gives the same workbook as the openpyxl path.

Both are read back with openpyxl and compared sheet by sheet, cell by cell (value, type,
font, fill, border, alignment, number format, comment, hyperlink), with sheet order, states,
selection, merged ranges, panes, column widths, row heights, page setup, print titles and
properties. A change to the openpyxl rendering in :mod:`toolkit.report.feedback` fails here until
:mod:`toolkit.report.feedback.xml_patch` draws the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import zipfile
from pathlib import Path

import openpyxl
import pytest
from test_feedback import FINDINGS, make_workbook

from toolkit.report.feedback import FEEDBACK_SHEET, feedback_bytes
from toolkit.report.feedback.lines import finding_lines, heading
from toolkit.report.feedback.workbook import annotated
from toolkit.report.feedback.xml_patch import annotate, feedback_bytes_fast
from toolkit.spec.load import load_campaign
from toolkit.spec.models import Submission
from toolkit.spec.units import Unit
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
UNIT = Unit("TX05", "Đoàn xã Xuân Trường", "co_so", "TX", "x@example.invalid")
OFFICE = Unit("TX", "Huyện đoàn Thọ Xuân", "huyen", "TDTH", "tx@example.invalid")


def _submission(path: Path, findings) -> Submission:
    data = path.read_bytes()
    return Submission(file=path.name, path=path, sha256=hashlib.sha256(data).hexdigest(),
                      size=len(data), received_at=dt.datetime(2021, 1, 19, 8, 30),
                      identity={"campaign": "nq02-2020", "unit_code": UNIT.code,
                                "unit_name": UNIT.name, "kind": "template"},
                      findings=list(findings), status="rejected")


def _fast(sub: Submission) -> bytes:
    data = feedback_bytes_fast(sub, CAMPAIGN)
    assert data is not None, "the XML path declined a file it should handle"
    return data


def _slow(sub: Submission) -> bytes:
    return annotated(sub, CAMPAIGN, finding_lines(sub, CAMPAIGN))


def _style(cell) -> tuple:
    f, fill, b, a = cell.font, cell.fill, cell.border, cell.alignment
    return (f.b, f.i, f.sz, f.u, f.color.rgb if f.color is not None else None, f.name,
            fill.patternType, fill.fgColor.rgb if fill.patternType else None,
            b.left.style, b.right.style, b.top.style, b.bottom.style,
            a.horizontal, a.vertical, bool(a.wrap_text), cell.number_format,
            cell.protection.locked, cell.protection.hidden)


def _sheet_dump(ws) -> dict:
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if type(c).__name__ == "MergedCell":
                continue
            cells[c.coordinate] = (
                c.value, c.data_type, _style(c),
                (c.comment.text, c.comment.author) if c.comment else None,
                (c.hyperlink.location, c.hyperlink.display) if c.hyperlink else None)
    return {
        "cells": cells,
        "state": ws.sheet_state,
        "selected": bool(ws.sheet_view.tabSelected),
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "freeze": ws.freeze_panes,
        "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
        "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
        "page": (ws.page_setup.orientation, str(ws.page_setup.paperSize),
                 ws.page_setup.fitToWidth, ws.page_setup.fitToHeight,
                 ws.sheet_properties.pageSetUpPr.fitToPage
                 if ws.sheet_properties.pageSetUpPr else None),
        "titles": ws.print_title_rows,
        "validations": len(ws.data_validations.dataValidation),
        "protected": bool(ws.protection.sheet),
    }


def _dump(data: bytes) -> dict:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {
        "sheets": wb.sheetnames,
        "active": wb.active.title,
        "props": {p.name: p.value for p in wb.custom_doc_props},
        "content": {ws.title: _sheet_dump(ws) for ws in wb.worksheets},
    }


def _assert_same(fast: bytes, slow: bytes) -> None:
    a, b = _dump(fast), _dump(slow)
    assert a["sheets"] == b["sheets"]
    assert a["active"] == b["active"] == FEEDBACK_SHEET
    assert a["props"] == b["props"]
    for name in a["sheets"]:
        sa, sb = a["content"][name], b["content"][name]
        for key in sa:
            if key == "cells":
                diff = {k: (sa["cells"].get(k), sb["cells"].get(k))
                        for k in sa["cells"].keys() | sb["cells"].keys()
                        if sa["cells"].get(k) != sb["cells"].get(k)}
                assert not diff, f"{name}: cells differ: {list(diff.items())[:3]}"
            else:
                assert sa[key] == sb[key], f"{name}: {key} differs: {sa[key]} != {sb[key]}"


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    """A real template, filled by a unit, with mistakes the pipeline reports."""
    values = sample_values(CAMPAIGN, random.Random("feedback-xml"))
    values[("PL4", "2019", "co_so_so_nguoi")] = "12 người"
    values[("PL6", "2018", "giam_sat_so_cuoc")] = 2.5
    path = tmp_path_factory.mktemp("fx") / "TX05.xlsx"
    path.write_bytes(fill_workbook(template_bytes(CAMPAIGN, UNIT, OFFICE), values))
    return path


def test_real_template_same_as_openpyxl(filled, tmp_path):
    from toolkit.pipeline import consolidate
    from toolkit.spec.units import UnitRegistry

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / filled.name).write_bytes(filled.read_bytes())
    units = UnitRegistry({u.code: u for u in (
        Unit("TDTH", "Tỉnh đoàn", "tinh", "", "t@example.invalid"), OFFICE, UNIT)})
    result = consolidate(inbox, CAMPAIGN, units, OFFICE)
    (sub,) = result.submissions
    assert sub.status == "rejected" and sub.errors >= 2
    _assert_same(_fast(sub), _slow(sub))


def test_small_workbook_same_as_openpyxl(tmp_path):
    """Merged cells, protection, a formula, whole-file and cell findings, two on one cell."""
    sub = _submission(make_workbook(tmp_path / "TX01.xlsx"), FINDINGS)
    _assert_same(_fast(sub), _slow(sub))


def test_whole_file_findings_only_same_as_openpyxl(tmp_path):
    """No cell to mark: the heading says the problems are listed below, as openpyxl's."""
    sub = _submission(make_workbook(tmp_path / "TX01.xlsx"),
                      [f for f in FINDINGS if not f.cell])
    _assert_same(_fast(sub), _slow(sub))


def test_xlsm_and_other_suffixes_go_to_openpyxl(tmp_path):
    path = make_workbook(tmp_path / "TX01.xlsx")
    renamed = path.rename(tmp_path / "TX01.xlsm")
    assert feedback_bytes_fast(_submission(renamed, FINDINGS), CAMPAIGN) is None


def test_merged_cell_marked_at_top_left(tmp_path):
    sub = _submission(make_workbook(tmp_path / "TX01.xlsx"), FINDINGS)
    wb = openpyxl.load_workbook(io.BytesIO(_fast(sub)))
    assert wb["PL2"]["H9"].fill.fgColor.rgb.endswith("FFC7CE")
    assert wb["PL2"]["H9"].comment.text.startswith("Lỗi: Ô bị gộp")


def test_reproducible_and_original_untouched(filled):
    before = filled.read_bytes()
    sub = _submission(filled, FINDINGS[1:2])
    assert _fast(sub) == _fast(sub)
    assert filled.read_bytes() == before


def test_untouched_parts_are_copied_byte_for_byte(filled):
    sub = _submission(filled, FINDINGS[1:2])
    with zipfile.ZipFile(filled) as src, zipfile.ZipFile(io.BytesIO(_fast(sub))) as out:
        same = [n for n in src.namelist() if n.startswith(("xl/worksheets/sheet", "docProps/"))
                and n != "xl/worksheets/sheet1.xml" and n in out.namelist()
                and src.read(n) == out.read(n)]
    assert "docProps/custom.xml" in same
    assert len(same) >= 5  # the sheets without findings are not rewritten


def test_second_round_goes_to_openpyxl(tmp_path):
    """A file that already carries a feedback list is left to the openpyxl path."""
    first = tmp_path / "round1.xlsx"
    first.write_bytes(feedback_bytes(_submission(make_workbook(tmp_path / "TX01.xlsx"),
                                                 FINDINGS), CAMPAIGN))
    sub = _submission(first, FINDINGS[:1])
    lines = finding_lines(sub, CAMPAIGN)
    assert annotate(first.read_bytes(), lambda m: heading(sub, CAMPAIGN, m), lines) is None
    assert feedback_bytes_fast(sub, CAMPAIGN) is None


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04broken", b""])
def test_broken_files_are_declined(tmp_path, content):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    sub = _submission(path, FINDINGS)
    lines = finding_lines(sub, CAMPAIGN)
    assert annotate(content, lambda m: heading(sub, CAMPAIGN, m), lines) is None
    assert feedback_bytes_fast(sub, CAMPAIGN) is None
