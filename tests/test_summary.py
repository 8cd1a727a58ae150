"""The summary workbook, from a ConsolidationResult built by hand with known numbers, read
back with openpyxl cell by cell."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook as PyxlWorkbook

from toolkit.report.summary import FINDINGS_SHEET, STATUS_SHEET, summary_bytes
from toolkit.spec.campaign import Campaign
from toolkit.spec.layout import TOTAL_KEY, FormLayout, form_layout
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.models import (
    STATUS_LABELS,
    ConsolidationResult,
    Finding,
    FormSummary,
    Submission,
    SummaryRow,
)
from toolkit.spec.units import UnitRegistry
from toolkit.write.charts import CHART_SHEET

UTC = dt.UTC
EVIL = '=HYPERLINK("http://evil.example","bấm vào đây")'
GENERATED = dt.datetime(2021, 2, 1, 1, 0, tzinfo=UTC)  # 08:00 on 01/02/2021 in Vietnam


def _sub(code: str, name: str, file: str, status: str, received: dt.datetime | None,
         findings: list[Finding] = (), reason: str = "") -> Submission:
    identity = {"campaign": "nq02-2020", "unit_code": code, "unit_name": name} if code else {}
    return Submission(file=file, path=Path("/inbox") / file, sha256="0" * 64, size=1,
                      received_at=received, identity=identity, findings=list(findings),
                      status=status, reason=reason,
                      received_source="mail" if received is not None else "unknown")


def _finding(file: str, code: str, severity: str, cell: str, column: str,
             value: str = "") -> Finding:
    return Finding(file=file, unit_code=code, form="PL2", cell=cell, column=column,
                   severity=severity, code="rule_violation" if severity == "error" else "blank",
                   message=f"Thông báo {severity} ở {cell}", value=value)


# Known figures of the two accepted units (TX01, TX04) and the office's sums.
PL2_UNITS = {"TX01": {"bt_so_luong": 3, "bt_dai_hoc": 2, "bch_so_luong": 15},
             "TX04": {"bt_so_luong": 2, "bt_dai_hoc": 1, "bch_so_luong": 11}}
PL2_NAMES = {"TX01": "Đoàn thị trấn Thọ Xuân", "TX04": "Đoàn xã Xuân Hồng"}
PL2_OFFICE = {"bt_so_luong": 5, "bt_dai_hoc": 3, "bch_so_luong": 26}
PL4_YEARS = {"2016": {"tinh_so_nguoi": 4, "huyen_so_nguoi": 10, "ghi_chu": "TX01: tốt"},
             "2017": {"tinh_so_nguoi": 6, "huyen_so_nguoi": 12},
             "2018": {}, "2019": {"tinh_so_nguoi": 1}, "2020": {"co_so_so_lop": 2}}
PL4_TOTAL = {"tinh_so_nguoi": 11, "huyen_so_nguoi": 22, "co_so_so_lop": 2}
PL5_OFFICE = {"bhyt_so_nguoi": 30, "bhyt_tong_so": 40, "bhyt_ty_le": 0.75,
              "lam_nha_so_tien": 12.5, "tap_hop_chi_tieu": 85.0}
PL1_ROWS = [
    ("TX01", {"loai_van_ban": "Kế hoạch", "so_hieu": "12-KH/ĐTN",
              "ngay_ban_hanh": dt.date(2016, 3, 2), "trich_yeu": "Triển khai NQ 02"}),
    ("TX01", {"loai_van_ban": "Công văn", "so_hieu": "0015", "ngay_ban_hanh": None,
              "trich_yeu": EVIL}),
    ("TX04", {"loai_van_ban": "Kế hoạch", "so_hieu": "7-KH/ĐTN",
              "ngay_ban_hanh": dt.date(2018, 5, 9), "trich_yeu": "Kiểm tra chi đoàn"}),
]


def _summaries(campaign: Campaign, units: UnitRegistry) -> list[FormSummary]:
    pl1, pl2, pl4, pl5 = (campaign.form(f) for f in ("PL1", "PL2", "PL4", "PL5"))
    rows1 = tuple(
        SummaryRow(key=str(i), label=str(i), values=values, kind="office", unit_code=code,
                   unit_name=units.get(code).name)
        for i, (code, values) in enumerate(PL1_ROWS, start=1))
    counts = dict.fromkeys(pl1.column("loai_van_ban").choices, 0)
    counts.update({"Kế hoạch": 2, "Công văn": 1})
    rows2 = (*(SummaryRow(key=code, label=units.get(code).name, values=v, kind="unit",
                          unit_code=code, unit_name=units.get(code).name)
               for code, v in PL2_UNITS.items()),
             SummaryRow(key="-", label="Tổng cộng", values=PL2_OFFICE, kind="office"))
    rows4 = (*(SummaryRow(key=y, label=y, values=v, kind="office") for y, v in PL4_YEARS.items()),
             SummaryRow(key=TOTAL_KEY, label="Tổng cộng", values=PL4_TOTAL, kind="total"))
    rows5 = (SummaryRow(key="-", label="Tổng cộng", values=PL5_OFFICE, kind="office"),)
    return [FormSummary(pl1, rows1, {"loai_van_ban": counts}), FormSummary(pl2, rows2),
            FormSummary(pl4, rows4), FormSummary(pl5, rows5)]


@pytest.fixture(scope="module")
def result(campaign: Campaign, units: UnitRegistry) -> ConsolidationResult:
    expected = [units.get(c) for c in ("TX01", "TX02", "TX03", "TX04")]
    f_warn = _finding("TX01.xlsx", "TX01", "warning", "C14", "bt_so_luong")
    f_err1 = _finding("TX02 bản 2.xlsx", "TX02", "error", "E14", "bt_thac_sy", value=EVIL)
    f_err2 = _finding("TX02 bản 2.xlsx", "TX02", "error", "F14", "bt_dai_hoc", value="12 người")
    submissions = [
        # 16:30 UTC = 23:30 on 20/01 in Vietnam: on the deadline day, on time
        _sub("TX01", "Đoàn thị trấn Thọ Xuân", "TX01.xlsx", "accepted",
             dt.datetime(2021, 1, 20, 16, 30, tzinfo=UTC), [f_warn]),
        _sub("TX02", "Đoàn thị trấn Lam Sơn", "TX02.xlsx", "superseded",
             dt.datetime(2021, 1, 10, 2, 0, tzinfo=UTC), reason="Đã có bản mới hơn"),
        _sub("TX02", "Đoàn thị trấn Lam Sơn", "TX02 bản 2.xlsx", "rejected",
             dt.datetime(2021, 1, 19, 3, 0, tzinfo=UTC), [f_err1, f_err2], reason="2 lỗi"),
        # 17:30 UTC = 00:30 on 21/01 in Vietnam: late
        _sub("TX04", "Đoàn xã Xuân Hồng", "TX04.xlsx", "accepted",
             dt.datetime(2021, 1, 20, 17, 30, tzinfo=UTC)),
        _sub("", "", "lạ.xlsx", "unidentified", dt.datetime(2021, 1, 18, tzinfo=UTC),
             reason="Không có trang _meta"),
    ]
    return ConsolidationResult(
        campaign=campaign, office=units.get("TX"), submissions=submissions,
        expected=expected, forms=_summaries(campaign, units), generated_at=GENERATED,
        skipped=[("cu.xlsx", "Chiến dịch khác")], office_parent=units.get("TDTH"))


@pytest.fixture(scope="module")
def data(result: ConsolidationResult) -> bytes:
    return summary_bytes(result)


@pytest.fixture(scope="module")
def book(data: bytes) -> PyxlWorkbook:
    return load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def cached(data: bytes) -> PyxlWorkbook:
    return load_workbook(io.BytesIO(data), data_only=True)


def _layout(result: ConsolidationResult, form_id: str) -> FormLayout:
    """The summary's layout, built here from the rows this test put in the result."""
    fs = next(f for f in result.forms if f.form.id == form_id)
    extra = [("unit", "Đơn vị", 28)] if fs.form.kind == "list" else []
    return form_layout(fs.form, rows=[(r.key, r.label, r.kind) for r in fs.rows],
                       extra_columns=extra)


def _row_of(ws, column: int, text: str) -> int:
    for row in ws.iter_rows(min_col=column, max_col=column):
        if row[0].value == text:
            return row[0].row
    raise AssertionError(f"{text!r} not in column {column} of {ws.title}")


# ---------------------------------------------------------------------------- status


def test_sheets(book: PyxlWorkbook) -> None:
    assert book.sheetnames == [STATUS_SHEET, "Cần liên hệ", "PL1", "PL2", "PL4", "PL5",
                               CHART_SHEET, FINDINGS_SHEET, META_SHEET]
    assert book[META_SHEET].sheet_state == "veryHidden"


def test_heading_names_office_and_its_parent(book: PyxlWorkbook) -> None:
    for name in (STATUS_SHEET, "PL2"):
        ws = book[name]
        assert ws["A1"].value == "TỈNH ĐOÀN THANH HÓA"
        assert ws["A2"].value == "HUYỆN ĐOÀN THỌ XUÂN"
    values = [c.value for row in book["PL2"].iter_rows(max_row=7) for c in row]
    assert "……, ngày 01 tháng 02 năm 2021" in values
    assert "TỔNG HỢP PHỤ LỤC 2" in values


def test_status_counts(book: PyxlWorkbook, cached: PyxlWorkbook) -> None:
    ws, values = book[STATUS_SHEET], cached[STATUS_SHEET]
    counts = {
        "Số đơn vị phải nộp": 4,
        f"{STATUS_LABELS['accepted']} (đơn vị)": 2,
        f"{STATUS_LABELS['rejected']} (đơn vị)": 1,
        f"{STATUS_LABELS['missing']} (đơn vị)": 1,
        f"{STATUS_LABELS['superseded']} (tệp)": 1,
        f"{STATUS_LABELS['unidentified']} (tệp)": 1,
        "Số đơn vị nộp đúng hạn": 2,  # TX01 (23:30 on the day) and TX02's chosen file
    }
    for label, n in counts.items():
        assert ws.cell(_row_of(ws, 1, label), 4).value == n, label
    on_time = _row_of(ws, 1, "Tỷ lệ đơn vị nộp đúng hạn")
    valid = _row_of(ws, 1, "Tỷ lệ đơn vị có báo cáo hợp lệ")
    assert ws.cell(on_time, 4).value.startswith("=IF(")
    assert values.cell(on_time, 4).value == pytest.approx(2 / 4)
    assert values.cell(valid, 4).value == pytest.approx(2 / 4)
    assert ws.cell(valid, 4).number_format == "0.0%"


def test_status_rows(book: PyxlWorkbook) -> None:
    ws = book[STATUS_SHEET]
    header = _row_of(ws, 1, "TT")
    head = [c.value for c in ws[header]]
    assert head[:9] == ["TT", "Mã đơn vị", "Tên đơn vị", "Trạng thái", "Tệp", "Thời gian nhận",
                        "Nguồn thời gian nhận", "Hạn nộp", "Đúng hạn / trễ hạn"]
    table = [[c.value for c in ws[r]] for r in range(header + 1, ws.max_row + 1)]
    rows = {}
    for values in table:  # the unit's own row comes first; extra files follow
        rows.setdefault(values[1], values)
    tx01, tx02, tx03, tx04 = (rows[c] for c in ("TX01", "TX02", "TX03", "TX04"))
    assert tx01[2:5] == ["Đoàn thị trấn Thọ Xuân", "Hợp lệ", "TX01.xlsx"]
    assert tx01[5] == dt.datetime(2021, 1, 20, 23, 30)  # Vietnam time
    assert tx01[6] == "theo thư điện tử"
    assert tx01[7] == dt.datetime(2021, 1, 20)
    assert tx01[8:11] == ["Đúng hạn", 0, 1]
    assert tx02[3:5] == ["Bị trả lại (có lỗi)", "TX02 bản 2.xlsx"]
    assert tx02[8:11] == ["Đúng hạn", 2, 0]
    assert tx03[3] == "Chưa nộp" and tx03[4] in (None, "") and tx03[8] in (None, "")
    assert tx04[5] == dt.datetime(2021, 1, 21, 0, 30) and tx04[8] == "Trễ hạn"
    assert ws.cell(_row_of(ws, 2, "TX01"), 6).number_format == "dd/mm/yyyy hh:mm"
    extra = table[4:]
    assert [(r[3], r[4]) for r in extra] == [("Đã có bản mới hơn", "TX02.xlsx"),
                                             ("Không nhận diện được", "lạ.xlsx"),
                                             ("Bỏ qua", "cu.xlsx")]
    assert extra[2][11] == "Chiến dịch khác"
    assert [r[0] for r in table] == list(range(1, 8))


def test_status_chart_and_year_chart(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
        pie = z.read("xl/charts/chart1.xml").decode()
        bars = z.read("xl/charts/chart2.xml").decode()
    assert "<c:pieChart>" in pie and "'Tình hình nộp'!$D$10:$D$12" in pie
    assert "<c:barChart>" in bars and "'PL4'!$" in bars


# ---------------------------------------------------------------------------- forms


def test_single_row_form_values(book: PyxlWorkbook, result: ConsolidationResult) -> None:
    layout = _layout(result, "PL2")
    ws = book["PL2"]
    for code, values in PL2_UNITS.items():
        for key, value in values.items():
            assert ws[layout.cell(code, key)].value == value
        assert ws.cell(layout.row(code).row + 1, 1).value == PL2_NAMES[code]
    for key, value in PL2_OFFICE.items():
        cell = ws[layout.cell("-", key)]
        assert cell.value == value and cell.font.b
    assert ws[layout.cell("-", "bt_thac_sy")].value is None  # blank stays blank, not 0
    assert ws.cell(layout.row("-").row + 1, 1).value == "Tổng cộng"


def test_ratio_is_the_results_value(book: PyxlWorkbook, cached: PyxlWorkbook,
                                    result: ConsolidationResult) -> None:
    layout = _layout(result, "PL5")
    ref = layout.cell("-", "bhyt_ty_le")
    assert cached["PL5"][ref].value == pytest.approx(0.75)
    assert book["PL5"][ref].number_format == "0.0%"
    assert book["PL5"][layout.cell("-", "lam_nha_so_tien")].value == 12.5
    assert book["PL5"][layout.cell("-", "tap_hop_chi_tieu")].value == 85.0


def test_fixed_rows_form_values(book: PyxlWorkbook, result: ConsolidationResult) -> None:
    layout = _layout(result, "PL4")
    ws = book["PL4"]
    for year, values in PL4_YEARS.items():
        assert ws.cell(layout.row(year).row + 1, 1).value == year
        for key, value in values.items():
            assert ws[layout.cell(year, key)].value == value
    for key, value in PL4_TOTAL.items():
        assert ws[layout.cell(TOTAL_KEY, key)].value == value
        assert ws[layout.cell(TOTAL_KEY, key)].font.b
    assert ws[layout.cell("2018", "tinh_so_nguoi")].value is None


def test_list_form_values_and_choice_counts(book: PyxlWorkbook,
                                            result: ConsolidationResult) -> None:
    layout = _layout(result, "PL1")
    ws = book["PL1"]
    for i, (code, values) in enumerate(PL1_ROWS, start=1):
        row = layout.row(str(i)).row
        assert ws.cell(row + 1, layout.extra_columns["unit"] + 1).value == \
            result.expected[0 if code == "TX01" else 3].name
        for key, value in values.items():
            got = ws[layout.cell(str(i), key)].value
            if isinstance(value, dt.date):
                assert got == dt.datetime.combine(value, dt.time())
            else:
                assert got == value
    assert ws[layout.cell("2", "so_hieu")].value == "0015"  # text stays text
    evil = ws[layout.cell("2", "trich_yeu")]
    assert evil.data_type == "s" and evil.value == EVIL
    title = _row_of(ws, 1, "Số văn bản theo thể loại văn bản")
    table = {ws.cell(r, 2).value: ws.cell(r, 3).value for r in range(title + 2, title + 12)}
    assert table["Kế hoạch"] == 2 and table["Công văn"] == 1 and table["Chỉ thị"] == 0
    assert table["Tổng cộng"] == 3


# ---------------------------------------------------------------------------- findings


def test_findings_sheet(book: PyxlWorkbook, result: ConsolidationResult) -> None:
    ws = book[FINDINGS_SHEET]
    header = _row_of(ws, 1, "Tệp")
    assert [c.value for c in ws[header]][:8] == ["Tệp", "Đơn vị", "Phụ lục", "Ô", "Cột",
                                                 "Mức độ", "Loại", "Nội dung"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=header + 1)]
    assert len(rows) == len(result.findings) == 3
    assert ws.auto_filter.ref.startswith(f"A{header}:")
    by_cell = {r[3]: r for r in rows}
    assert by_cell["C14"][1] == "TX01 – Đoàn thị trấn Thọ Xuân"
    assert by_cell["C14"][5] == "Cảnh báo"
    assert by_cell["E14"][5] == "Lỗi" and by_cell["E14"][6] == "Số liệu không khớp nhau"
    assert by_cell["E14"][4] == "Bí thư, Phó Bí thư Đoàn › Trình độ › Chuyên môn › Thạc sỹ"
    assert by_cell["F14"][8] == "12 người"
    evil = ws.cell(header + 1 + [r[3] for r in rows].index("E14"), 9)
    assert evil.value == EVIL and evil.data_type == "s"


# ---------------------------------------------------------------------------- _meta


def test_meta_maps_the_office_rows(book: PyxlWorkbook, cached: PyxlWorkbook,
                                   result: ConsolidationResult, campaign: Campaign) -> None:
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    assert meta.identity == {
        "campaign": "nq02-2020", "unit_code": "TX", "unit_name": "Huyện đoàn Thọ Xuân",
        "kind": "summary", "template_version": campaign.template_version,
        "spec_sha256": campaign.spec_sha256, "generated_at": "2021-02-01T01:00:00+00:00",
        # how many of the office's units the figures cover (the level above shows it)
        "units_covered": str(sum(1 for u in result.expected
                                 if result.status_of(u.code) == "accepted")),
        "units_expected": str(len(result.expected)),
    }
    entries = {(c.form, c.row, c.column): c for c in meta.cells}
    # only the office's own rows: PL2 "-", PL4 years (not the total), PL1 records, PL5 "-"
    assert {(f, r) for f, r, _ in entries} == {
        ("PL1", "1"), ("PL1", "2"), ("PL1", "3"), ("PL2", "-"), ("PL5", "-"),
        *(("PL4", y) for y in PL4_YEARS)}
    assert not any(c.column == "bhyt_ty_le" for c in meta.cells)  # ratios are recomputed
    expected = {("PL2", "-", k): v for k, v in PL2_OFFICE.items()}
    expected |= {("PL4", y, k): v for y, vals in PL4_YEARS.items() for k, v in vals.items()}
    expected |= {("PL5", "-", k): v for k, v in PL5_OFFICE.items() if k != "bhyt_ty_le"}
    expected |= {("PL1", "3", "so_hieu"): "7-KH/ĐTN"}
    for key, value in expected.items():
        ref = entries[key]
        assert cached[ref.sheet][ref.cell].value == value, key
    assert all(c.data_type == "s" for row in book[META_SHEET].iter_rows() for c in row
               if c.value is not None)


def test_custom_properties(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("docProps/custom.xml").decode()
    assert '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="5" name="kind">' \
           "<vt:lpwstr>summary</vt:lpwstr>" in xml
    assert 'name="unit_code"><vt:lpwstr>TX</vt:lpwstr>' in xml


def test_reproducible_and_generated_at(result: ConsolidationResult, data: bytes) -> None:
    assert summary_bytes(result) == data
    other = summary_bytes(result, generated_at=dt.datetime(2021, 3, 1, 9, 0))
    meta = parse_meta(list(load_workbook(io.BytesIO(other))[META_SHEET].iter_rows(
        values_only=True)))
    assert meta.identity["generated_at"] == "2021-03-01T09:00:00"


def test_without_parent_and_without_rows(result: ConsolidationResult) -> None:
    empty = [dataclasses.replace(fs, rows=()) if fs.form.kind == "list" else fs
             for fs in result.forms]
    bare = dataclasses.replace(result, office_parent=None, forms=empty, submissions=[],
                               skipped=[])
    wb = load_workbook(io.BytesIO(summary_bytes(bare)))
    assert wb[STATUS_SHEET]["A2"].value == "HUYỆN ĐOÀN THỌ XUÂN"
    texts = [c.value for row in wb["PL1"].iter_rows() for c in row if c.value]
    assert "Chưa có số liệu." in texts
    assert [c.value for row in wb[FINDINGS_SHEET].iter_rows() for c in row
            if c.value == "Không có lỗi hay cảnh báo nào."]
