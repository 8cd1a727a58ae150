"""Feedback workbooks, read back with openpyxl from real files."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import openpyxl
import pytest
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import PatternFill

from toolkit.report.feedback import ERROR_FILL, FEEDBACK_SHEET, WARNING_FILL, feedback_bytes
from toolkit.spec.load import load_campaign
from toolkit.spec.models import Finding, Submission

FORMULA_VALUE = '=HYPERLINK("x")'
IDENTITY = {"campaign": "nq02-2020", "unit_code": "TX01", "unit_name": "Đoàn thị trấn Thọ Xuân",
            "kind": "template"}


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("nq02-2020")


def make_workbook(path: Path) -> Path:
    """A small filled workbook shaped like a template: form sheets, hidden _meta, properties."""
    wb = openpyxl.Workbook()
    pl1 = wb.active
    pl1.title = "PL1"
    pl1["B12"] = "Kế hoạch"
    pl1["C12"] = FORMULA_VALUE
    pl2 = wb.create_sheet("PL2")
    pl2["A9"] = "Đoàn thị trấn Thọ Xuân"
    pl2["E9"] = "12 người"
    pl2["E9"].fill = PatternFill(fill_type="solid", start_color="FFF2CC", end_color="FFF2CC")
    pl2["F9"] = 30
    pl2["G9"] = 3
    pl2.merge_cells("H9:I9")
    pl2["H9"] = 5
    pl2.protection.sheet = True
    meta = wb.create_sheet("_meta")
    for key, value in IDENTITY.items():
        meta.append([key, value])
    meta.append([])
    meta.append(["form", "sheet", "row", "column", "cell"])
    meta.append(["PL2", "PL2", "-", "bt_so_luong", "E9"])
    meta.sheet_state = "veryHidden"
    for key, value in IDENTITY.items():
        wb.custom_doc_props.append(StringProperty(name=key, value=value))
    wb.save(path)
    return path


def finding(form: str, cell: str, column: str, severity: str, code: str, message: str,
            value: str = "") -> Finding:
    return Finding(file="TX01.xlsx", unit_code="TX01", form=form, cell=cell, column=column,
                   severity=severity, code=code, message=message, value=value)


FINDINGS = [
    finding("PL2", "G9", "bt_dai_hoc", "warning", "rule", "Tổng trình độ vượt số lượng", "3"),
    finding("PL2", "E9", "bt_so_luong", "error", "not_a_number",
            "Ô này chỉ được nhập số, đã nhập “12 người”", "12 người"),
    finding("PL1", "C12", "so_hieu", "error", "formula", "Không nhập công thức", FORMULA_VALUE),
    finding("", "", "", "warning", "late", "Tệp gửi sau hạn chót 20/01/2021"),
    finding("PL2", "I9", "bt_llct_tc", "error", "merged", "Ô bị gộp"),
    finding("PL2", "E9", "bt_so_luong", "error", "required", "Thiếu số lượng"),
]


def submission(path: Path, findings=FINDINGS) -> Submission:
    data = path.read_bytes()
    return Submission(file=path.name, path=path, sha256=hashlib.sha256(data).hexdigest(),
                      size=len(data), received_at=dt.datetime(2021, 1, 19, 8, 30),
                      identity=dict(IDENTITY), findings=list(findings), status="rejected")


@pytest.fixture
def original(tmp_path: Path) -> Path:
    return make_workbook(tmp_path / "TX01.xlsx")


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def list_rows(ws) -> list[tuple]:
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "TT")
    return rows[start:]


def test_cells_coloured_and_commented(campaign, original):
    wb = load(feedback_bytes(submission(original), campaign))
    pl2 = wb["PL2"]
    e9 = pl2["E9"]
    assert e9.fill.fgColor.rgb.endswith(ERROR_FILL)
    assert e9.comment.author == "toolkit"
    # two findings on one cell share one comment
    assert "Ô này chỉ được nhập số" in e9.comment.text
    assert "Thiếu số lượng" in e9.comment.text
    assert e9.value == "12 người"  # the value itself is left alone
    assert pl2["G9"].fill.fgColor.rgb.endswith(WARNING_FILL)
    assert pl2["G9"].comment.text.startswith("Cảnh báo:")
    assert pl2["H9"].fill.fgColor.rgb.endswith(ERROR_FILL)  # merged: top-left marked
    assert pl2["F9"].comment is None
    assert pl2.protection.sheet  # protection left as it was
    assert wb["PL1"]["C12"].comment.text == "Lỗi: Không nhập công thức"


def test_findings_sheet_first_active_and_listed(campaign, original):
    sub = submission(original)
    wb = load(feedback_bytes(sub, campaign))
    assert wb.sheetnames[0] == FEEDBACK_SHEET
    assert wb.active.title == FEEDBACK_SHEET
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [FEEDBACK_SHEET]
    ws = wb[FEEDBACK_SHEET]
    top = [ws.cell(row=i, column=1).value for i in range(1, 6)]
    assert top[0] == "PHẢN HỒI KIỂM TRA SỐ LIỆU"
    assert "Đoàn thị trấn Thọ Xuân" in top[1]
    assert campaign.document_number in top[2]
    errors = sum(1 for f in FINDINGS if f.severity == "error")
    warnings = len(FINDINGS) - errors
    assert f"Có {errors} lỗi cần sửa và {warnings} cảnh báo" in top[4]
    assert "gửi lại" in top[4]
    rows = list_rows(ws)
    assert rows[0] == ("TT", "Phụ lục", "Ô", "Cột", "Giá trị đã nhập", "Mức độ",
                       "Nội dung cần sửa")
    body = rows[1:]
    assert len(body) == len(FINDINGS)
    assert [r[0] for r in body] == list(range(1, len(FINDINGS) + 1))
    # whole-file first, then form order (PL1 before PL2), then cells in reading order
    assert [r[2] for r in body] == [None, "C12", "E9", "E9", "G9", "I9"]
    pl2 = campaign.form("PL2")
    e9 = body[2]
    assert e9[1] == pl2.number
    assert e9[3] == pl2.column("bt_so_luong").label
    assert e9[4] == "12 người"
    assert e9[5] == "Lỗi"
    assert e9[6] == "Ô này chỉ được nhập số, đã nhập “12 người”"
    assert body[0][5] == "Cảnh báo"
    assert body[0][6] == "Tệp gửi sau hạn chót 20/01/2021"


def test_cell_column_is_an_internal_link(campaign, original):
    wb = load(feedback_bytes(submission(original), campaign))
    ws = wb[FEEDBACK_SHEET]
    links = {c.value: c.hyperlink for row in ws.iter_rows(min_col=3, max_col=3) for c in row
             if c.hyperlink is not None}
    assert links["E9"].location == "'PL2'!E9"
    assert links["C12"].location == "'PL1'!C12"
    assert not links["E9"].target  # internal location, not an external target


def test_formula_like_values_stay_text(campaign, original):
    data = feedback_bytes(submission(original), campaign)
    wb = load(data)
    ws = wb[FEEDBACK_SHEET]
    cells = [c for row in ws.iter_rows() for c in row if c.value == FORMULA_VALUE]
    assert cells, "the entered value is listed"
    assert all(c.data_type == "s" for c in cells)
    # the original cell the unit typed keeps its type; the list never creates a formula
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        first = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in first


def test_meta_and_properties_kept(campaign, original):
    wb = load(feedback_bytes(submission(original), campaign))
    meta = wb["_meta"]
    assert meta.sheet_state == "veryHidden"
    rows = list(meta.iter_rows(values_only=True))
    assert rows[0] == ("campaign", "nq02-2020", None, None, None)
    assert ("PL2", "PL2", "-", "bt_so_luong", "E9") in rows
    props = {p.name: p.value for p in wb.custom_doc_props}
    assert props == IDENTITY


def test_original_file_untouched(campaign, original):
    before = original.read_bytes()
    feedback_bytes(submission(original), campaign)
    assert original.read_bytes() == before


def test_reproducible_bytes(campaign, original):
    sub = submission(original)
    assert feedback_bytes(sub, campaign) == feedback_bytes(sub, campaign)


def test_second_round_replaces_old_list_and_notes(campaign, original, tmp_path):
    first = tmp_path / "round1.xlsx"
    first.write_bytes(feedback_bytes(submission(original), campaign))
    only = [f for f in FINDINGS if f.cell == "G9"]
    wb = load(feedback_bytes(submission(first, only), campaign))
    assert wb.sheetnames.count(FEEDBACK_SHEET) == 1
    assert wb["PL2"]["E9"].comment is None  # fixed cell: old note gone
    assert wb["PL2"]["G9"].comment is not None
    assert len(list_rows(wb[FEEDBACK_SHEET])) == 2


@pytest.mark.parametrize("name, content", [
    ("TX01.ods", b"PK\x03\x04 not really an ods"),
    ("TX01.xls", b"\xd0\xcf\x11\xe0 old excel"),
    ("TX01.xlsx", b"this is not a zip"),
])
def test_unreadable_or_foreign_files_get_standalone_list(campaign, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    data = feedback_bytes(submission(path), campaign)
    wb = load(data)
    assert wb.sheetnames == [FEEDBACK_SHEET]
    rows = list_rows(wb[FEEDBACK_SHEET])
    assert len(rows) == len(FINDINGS) + 1
    values = [c for r in rows for c in r]
    assert FORMULA_VALUE in values
    cells = [c for row in wb[FEEDBACK_SHEET].iter_rows() for c in row
             if c.value == FORMULA_VALUE]
    assert all(c.data_type == "s" for c in cells)
    assert path.read_bytes() == content
    assert feedback_bytes(submission(path), campaign) == data


def test_missing_file_and_control_characters_do_not_raise(campaign, tmp_path):
    sub = submission(make_workbook(tmp_path / "TX01.xlsx"),
                     [finding("PL2", "E9", "x", "error", "c", "bad\x01value\x0b", "\x02")])
    sub.path = tmp_path / "gone.xlsx"
    wb = load(feedback_bytes(sub, campaign))
    assert wb.sheetnames == [FEEDBACK_SHEET]
    assert list_rows(wb[FEEDBACK_SHEET])[1][6] == "badvalue"
