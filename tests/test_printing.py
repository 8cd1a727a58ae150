"""What a clerk prints (issue 18 items 1–8), checked on the sample run's real files: row
heights against the text they hold, fonts, paper and print scale, signature blocks, charts,
and what the province sees of a district's summary (origin of list rows, coverage, caption).

Expected values come from the sample units file, the spec and the files' own cells, never
from the code that wrote them; sizes are checked with deliberately loose, independent bounds.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.report.feedback import feedback_bytes, feedback_or_reason
from toolkit.report.feedback.lines import HEADING_ROWS
from toolkit.report.summary import summary_bytes
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import load_campaign
from toolkit.spec.units import UnitRegistry, load_units
from toolkit.write.templates import template_bytes

FONT = "Times New Roman"
MIN_PX_PER_CHAR = 4.5  # narrower than any real average of 11 pt Times New Roman text
MIN_LINE_PT = 11 * 1.1  # a printed line of 11 pt text is at least this tall
INCHES = {9: (8.27, 11.69), 8: (11.69, 16.54)}  # paper code → (short, long) side


def _px(width: float | None) -> float:
    """Pixels of a column whose stored width (padding included) is ``width``, as LibreOffice
    prints it: 7.4 px a unit, measured on its PDF (Excel's 7 px would print larger)."""
    return (8.43 + 0.71 if width is None else width) * 7.4


def _col_width(ws: Any, col: int) -> float | None:
    """Stored width of column ``col`` (1-based); openpyxl groups equal neighbours in one
    dimension spanning min..max."""
    for dim in ws.column_dimensions.values():
        if dim.customWidth and dim.min is not None and dim.min <= col <= (dim.max or dim.min):
            return float(dim.width)
    return None


def _merged_width(ws: Any, cell: Any) -> float:
    """Pixels of the cell (or its merged range) as Excel lays it out, 7 px a stored unit
    (narrower than LibreOffice's: the stricter test of a row's height)."""
    cols = [cell.column]
    for rng in ws.merged_cells.ranges:
        if cell.coordinate in rng:
            cols = list(range(rng.min_col, rng.max_col + 1))
    return sum(_px(_col_width(ws, c)) * 7 / 7.4 for c in cols)


def _min_lines(text: str, px: float) -> int:
    usable = max(px - 8, 10)
    return sum(max(1, math.ceil(len(part) * MIN_PX_PER_CHAR / usable))
               for part in text.split("\n"))


def _check_heights(ws: Any, first_row: int, columns: list[int] | None = None) -> int:
    """Every wrapped text cell from ``first_row`` sits in a row tall enough for the lines its
    text needs at the column's width. Returns how many multi-line cells were checked."""
    checked = 0
    for row in ws.iter_rows(min_row=first_row):
        for cell in row:
            if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                continue
            if columns is not None and cell.column not in columns:
                continue
            lines = _min_lines(cell.value, _merged_width(ws, cell))
            if lines < 2:
                continue
            height = ws.row_dimensions[cell.row].height
            assert height is not None, f"{ws.title}!{cell.coordinate}: no height for {lines} lines"
            assert height >= lines * MIN_LINE_PT, (
                f"{ws.title}!{cell.coordinate}: {height} pt for {lines} lines of "
                f"{cell.value[:40]!r}")
            checked += 1
    return checked


@pytest.fixture(scope="module")
def nq02() -> Campaign:
    return load_campaign("nq02-2020")


@pytest.fixture(scope="module")
def sample_units() -> UnitRegistry:
    return load_units(samples_dir() / "units.csv")


@pytest.fixture(scope="module")
def district(nq02: Campaign, sample_units: UnitRegistry) -> Any:
    inbox = samples_dir() / "inbox"
    if not inbox.is_dir():
        pytest.skip("samples/inbox not made (python samples/make_inbox.py)")
    return consolidate(inbox, nq02, sample_units, sample_units.get("TX"))


@pytest.fixture(scope="module")
def district_bytes(district: Any) -> bytes:
    return summary_bytes(district)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory, district_bytes: bytes, nq02: Campaign,
             sample_units: UnitRegistry) -> tuple[Any, openpyxl.Workbook]:
    inbox = tmp_path_factory.mktemp("province") / "inbox"
    inbox.mkdir()
    (inbox / "tong-hop_TX.xlsx").write_bytes(district_bytes)
    result = consolidate(inbox, nq02, sample_units, sample_units.get("TDTH"))
    return result, openpyxl.load_workbook(io.BytesIO(summary_bytes(result)))


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


# ------------------------------------------------------------------ 1 row heights


def test_status_and_findings_rows_fit_their_text(district_bytes: bytes) -> None:
    book = _book(district_bytes)
    status = book["Tình hình nộp"]
    top = next(c.row for c in status["A"] if c.value == "TT")
    # the sample has resubmitted and not-a-child files: their Tệp and Ghi chú wrap
    assert _check_heights(status, top + 1) >= 3
    assert _check_heights(book["Lỗi"], 5) >= 1


def test_list_and_note_rows_fit_their_text(district_bytes: bytes) -> None:
    book = _book(district_bytes)
    checked = sum(_check_heights(book[s], 12) for s in ("PL1", "PL4", "PL6"))
    assert checked >= 3


def _targets_summary() -> tuple[Campaign, bytes]:
    campaign = load_campaign("nq01-hoc-tap-2018")
    inbox = samples_dir() / campaign.id / "inbox"
    if not inbox.is_dir():
        pytest.skip("no targets sample inbox")
    units = load_units(samples_dir() / "units.csv")
    return campaign, summary_bytes(consolidate(inbox, campaign, units, units.get("TX")))


def test_targets_summary_rows_fit_their_text() -> None:
    campaign, data = _targets_summary()
    form = next(f for f in campaign.forms if f.kind == "targets")
    ws = _book(data)[form.sheet]
    header = next(c for row in ws.iter_rows(max_row=15) for c in row
                  if c.value == "Đơn vị chưa đạt chỉ tiêu")
    behind = [ws.cell(r, header.column).value for r in range(header.row + 3, ws.max_row + 1)]
    assert any(isinstance(v, str) and ";" in v for v in behind)  # several units: wraps
    assert _check_heights(ws, header.row + 2) >= 1


# ------------------------------------------------------------------ 2 paper and scale


def _print_pt(ws: Any) -> float:
    """The size 11 pt text prints at: the print area's columns fitted to the paper's width."""
    area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
    last_col = openpyxl.utils.column_index_from_string(re.findall(r"\$([A-Z]+)\$", area)[-1])
    px = sum(_px(_col_width(ws, c)) for c in range(1, last_col + 1))
    paper = int(ws.page_setup.paperSize)
    assert ws.page_setup.orientation == "landscape"
    margins = ws.page_margins.left + ws.page_margins.right
    printable = (INCHES[paper][1] - margins) * 96
    return 11 * min(1.0, printable / px)


@pytest.mark.parametrize("sheet", ["PL1", "PL2", "PL3", "PL4", "PL5", "PL6"])
def test_template_prints_at_nine_points_or_more(nq02: Campaign, sample_units: UnitRegistry,
                                                sheet: str) -> None:
    unit = sample_units.get("TX01")
    ws = _book(template_bytes(nq02, unit, sample_units.get("TX")))[sheet]
    assert _print_pt(ws) >= 9, f"{sheet} prints at {_print_pt(ws):.1f} pt"
    if sheet != "PL5":  # only the widest form needs A3
        assert int(ws.page_setup.paperSize) == 9, f"{sheet} should fit A4"


def test_summary_sheets_print_at_nine_points_or_more(district_bytes: bytes) -> None:
    book = _book(district_bytes)
    for ws in book.worksheets:
        if ws.sheet_state == "visible":
            assert _print_pt(ws) >= 9, f"{ws.title} prints at {_print_pt(ws):.1f} pt"
    _campaign, data = _targets_summary()
    for ws in _book(data).worksheets:
        if ws.sheet_state == "visible":
            assert _print_pt(ws) >= 9, f"{ws.title} prints at {_print_pt(ws):.1f} pt"
            if ws.title != "Biểu đồ":
                assert int(ws.page_setup.paperSize) == 9, ws.title


# ------------------------------------------------------------------ 3 charts


def test_charts_on_their_own_sheet_one_measure_per_axis(district_bytes: bytes) -> None:
    book = _book(district_bytes)
    assert "Biểu đồ" in book.sheetnames
    assert book["Biểu đồ"].print_title_rows is None  # nothing repeated above a chart
    with zipfile.ZipFile(io.BytesIO(district_bytes)) as z:
        charts = [z.read(n).decode() for n in z.namelist() if re.fullmatch(
            r"xl/charts/chart\d+\.xml", n)]
    pl4 = [c for c in charts if "'PL4'!" in c]
    assert len(pl4) == 2  # people and classes
    for xml in pl4:
        names = re.findall(r"<c:v>([^<]*)</c:v>", xml)
        people = [n for n in names if "người" in n]
        classes = [n for n in names if "lớp" in n.lower()]
        assert not (people and classes), names


def test_targets_chart_has_full_legend_and_the_100_percent_line() -> None:
    campaign, data = _targets_summary()
    book = _book(data)
    ws = book["Biểu đồ"]
    form = next(f for f in campaign.forms if f.kind == "targets")
    head = next(r for r in ws.iter_rows() if r[0].value == "Đơn vị")
    names = [c.value for c in head[1:len(form.indicators) + 1]]
    assert names == [i.name for i in form.indicators]  # legend names, not cut at 60
    mark = head[len(form.indicators) + 1]
    assert mark.value and "100%" in mark.value
    below = [ws.cell(r, mark.column).value for r in range(head[0].row + 1, ws.max_row + 1)
             if ws.cell(r, 1).value]
    assert below and all(v == 1 for v in below)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = next(z.read(n).decode() for n in z.namelist()
                   if n.startswith("xl/charts/") and "<c:lineChart>" in z.read(n).decode())
    assert "<c:barChart>" in xml  # the columns and the 100 % line in one chart


# ------------------------------------------------------------------ 4 signatures and place


def test_template_signature_block_and_place(tmp_path: Path, nq02: Campaign) -> None:
    src = (samples_dir() / "units.csv").read_text(encoding="utf-8").splitlines()
    rows = [src[0] + ",place"] + [line + (",Thọ Xuân" if line.startswith("TX01,") else ",")
                                  for line in src[1:]]
    path = tmp_path / "units.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    units = load_units(path)
    book = _book(template_bytes(nq02, units.get("TX01"), units.get("TX")))
    for form in nq02.forms:
        ws = book[form.sheet]
        texts = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
        assert "Thọ Xuân, ngày … tháng … năm ……" in texts
        for title in ("NGƯỜI LẬP BIỂU", "TM. BAN THƯỜNG VỤ", "BÍ THƯ"):
            cell = texts[title]
            assert cell.font.b and cell.font.name == FONT
            area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
            last = int(re.findall(r"\$(\d+)", area)[-1])
            assert cell.row <= last, f"{form.sheet}: {title} outside the print area"
    other = _book(template_bytes(nq02, units.get("TX02"), units.get("TX")))["PL2"]
    assert any(c.value == "……, ngày … tháng … năm ……" for row in other.iter_rows()
               for c in row)


def test_summary_signature_block(district_bytes: bytes) -> None:
    book = _book(district_bytes)
    for sheet in ("PL1", "PL2", "PL4", "PL5"):
        values = [c.value for row in book[sheet].iter_rows() for c in row]
        assert "NGƯỜI LẬP BIỂU" in values and "TM. BAN THƯỜNG VỤ" in values


# ------------------------------------------------------------------ 5 feedback fonts


def test_feedback_sheet_is_times_new_roman(district: Any, nq02: Campaign) -> None:
    subs = [s for s in district.submissions if s.findings and s.path is not None]
    assert subs
    for sub in subs:
        data = feedback_or_reason(sub, nq02)
        assert isinstance(data, bytes)
        ws = _book(data)["Lỗi cần sửa"]
        fonts = {c.font.name for row in ws.iter_rows() for c in row if c.value is not None}
        assert fonts == {FONT}, (sub.file, fonts)
        top = next(c.row for c in ws["A"] if c.value == "TT")
        _check_heights(ws, top + 1)
    # the list alone, for a file openpyxl cannot rewrite (.ods, .xls): the same fonts
    alone = feedback_bytes(dataclasses.replace(subs[0], path=Path("bao-cao.ods")), nq02)
    ws = _book(alone)["Lỗi cần sửa"]
    assert {c.font.name for row in ws.iter_rows() for c in row if c.value is not None} == {FONT}
    assert _check_heights(ws, HEADING_ROWS + 2) >= 1


# ------------------------------------------------------------------ 6–8 the province


def test_province_list_rows_keep_their_origin(district_bytes: bytes,
                                              province: tuple[Any, Any]) -> None:
    district_pl1 = _book(district_bytes)["PL1"]
    shown = [r[1].value for r in district_pl1.iter_rows(min_row=12)
             if isinstance(r[0].value, str) and r[0].value.isdigit()]
    assert shown and all(not n.startswith("Huyện đoàn") for n in shown)
    _result, book = province
    ws = book["PL1"]
    rows = [r[1].value for r in ws.iter_rows(min_row=12)
            if isinstance(r[0].value, str) and r[0].value.isdigit()]
    assert rows == [f"Huyện đoàn Thọ Xuân › {n}" for n in shown]
    meta = book["_meta"]
    header = next(r for r in meta.iter_rows(values_only=True) if r[0] == "form")
    assert header[:6] == ("form", "sheet", "row", "column", "cell", "origin")
    origins = {r[2]: r[5] for r in meta.iter_rows(values_only=True) if r[0] == "PL1"}
    assert origins["1"] == rows[0]


def test_province_sees_coverage(district: Any, province: tuple[Any, Any],
                                sample_units: UnitRegistry) -> None:
    expected = len(sample_units.children("TX"))
    covered = sum(1 for u in sample_units.children("TX")
                  if district.status_of(u.code) == "accepted")
    assert 0 < covered < expected
    _result, book = province
    label = next(c.value for c in book["PL2"]["A"]
                 if isinstance(c.value, str) and c.value.startswith("Huyện đoàn Thọ Xuân"))
    assert f"{covered}/{expected} đơn vị" in label
    status = book["Tình hình nộp"]
    rows = list(status.iter_rows(values_only=True))
    header = next(r for r in rows if "Ghi chú" in r)
    note = next(r[header.index("Ghi chú")] for r in rows if r[1] == "TX")
    assert f"{covered}/{expected} đơn vị" in note


def test_province_caption_names_whose_summary(district_bytes: bytes,
                                              province: tuple[Any, Any]) -> None:
    _result, book = province
    caption = book["PL2"]["A7"].value
    assert caption.startswith("(Tổng hợp của Tỉnh đoàn Thanh Hóa")
    assert "161-KH/ĐTN" in caption and "BTV Huyện đoàn Thọ Xuân" in caption
    assert _book(district_bytes)["PL2"]["A7"].value.startswith("(Kèm theo Kế hoạch")


def test_units_file_place_is_optional(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    shutil.copy(samples_dir() / "units.csv", path)
    assert all(u.place == "" for u in load_units(path).units.values())
