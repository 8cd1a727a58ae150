"""Templates written to disk and read back with openpyxl: labels from the seed, merges,
locking, validation, formulas, ``_meta`` and custom properties, reproducibility."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from openpyxl.workbook.workbook import Workbook as PyxlWorkbook
from openpyxl.worksheet.worksheet import Worksheet as PyxlSheet

from toolkit._infra.atomic import OutputError
from toolkit.spec.campaign import Campaign, Form
from toolkit.spec.confirm import CONFIRM_KEY
from toolkit.spec.layout import (
    HEADER_TOP,
    NUMBER_TITLE_ROW,
    ORG_ROW,
    SOURCE_ROW,
    TITLE_ROW,
    UNIT_ROW,
)
from toolkit.spec.meta import IDENTITY_KEYS, META_SHEET, parse_meta
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.write.templates import (
    GUIDE_SHEET,
    make_templates,
    slugify,
    template_bytes,
    template_filename,
)

# ---------------------------------------------------------------------------- the seed
# Header labels of the six tables of seed 002, as typed there. The seed abbreviates; the
# template spells out. ``SEED_WORDS`` expands an abbreviation to what the header must show.
SEED_WORDS = {
    "ĐH": "Đại học",
    "CĐ, TC": "Cao đẳng, Trung cấp",
    "CC": "Cao cấp, Cử nhân",
    "CN,CC": "Cao cấp, Cử nhân",
    "TC": "Trung cấp",
    "LLCT": "Lý luận chính trị",
    "Tham gia HĐND xã, TT": "Tham gia HĐND xã, thị trấn",
    "Số lớp (HN)": "Số lớp (hội nghị)",
}
# "số cuộc/số đơn vị" in one seed cell becomes two columns: the seed cell lists both parts.
SEED_LABELS: dict[str, list[str]] = {
    "PL1": ["TT", "Thể loại văn bản", "Số hiệu VB", "Trích yếu nội dung văn bản"],
    "PL2": [
        "Bí thư, Phó Bí thư Đoàn", "Ban Thường vụ", "Ban Chấp hành", "Số lượng", "Trình độ",
        "Chuyên môn", "LLCT", "Thạc sỹ", "ĐH", "CN,CC", "Trung cấp", "CĐ, TC", "CC", "TC",
    ],
    "PL3": [
        "Bí thư Đoàn", "Phó Bí thư Đoàn", "Tham gia cấp ủy", "Tham gia HĐND xã, TT",
        "Số lượng", "Dân tộc thiểu số", "Tôn giáo", "Chuyên môn", "LLCT", "Thạc sỹ", "ĐH",
        "CĐ, TC", "CC", "TC",
    ],
    "PL4": [
        "Năm", "Tham gia ở cấp tỉnh", "(số người tham gia)", "Tham gia ở cấp huyện",
        "Cơ sở tổ chức", "Số lớp (HN)", "Số người", "tham gia", "Ghi chú",
    ],
    "PL5": [
        "Tỷ lệ thu hút, tập hợp đoàn viên, thanh niên", "Thành lập tổ chức mới",
        "số lượng tổ chức", "số đoàn viên", "Dự sinh hoạt với chi đoàn",
        "Kiểm tra, làm việc với chi đoàn", "Vận động hỗ trợ làm nhà cho ĐV, TTN và nhân dân",
        "Vận động thành lập DN", "Tỷ lệ ĐV, TN tham gia BHYT",
        "Tỷ lệ hộ nghèo do ĐV, TN làm chủ", "Chỉ tiêu NQ 02-NQ/TU", "Kết quả thực hiện",
        "Số lượng nhà (nhà)", "Số tiền (triệu đồng)",
    ],
    "PL6": [
        "Năm", "Giám sát", "số cuộc", "số đơn vị",
        "Phản biện, góp ý xây dựng Đảng, chính quyền", "Tổ chức tiếp xúc, đối thoại",
        "hội nghị", "Ghi chú",
    ],
}
# Row labels of the seed's fixed-row tables.
SEED_ROWS = {"PL4": ["2016", "2017", "2018", "2019", "2020"],
             "PL6": ["2016", "2017", "2018", "2019", "2020"]}
# Groups of the seed and how many columns each spans (seed cell split into two → 2).
SEED_GROUPS = {
    "PL2": {"Bí thư, Phó Bí thư Đoàn": 6, "Ban Thường vụ": 6, "Ban Chấp hành": 6},
    "PL3": {"Bí thư Đoàn": 8, "Phó Bí thư Đoàn": 8},
    "PL4": {"Cơ sở tổ chức": 2},
    "PL5": {"Thành lập tổ chức mới": 2, "Vận động hỗ trợ làm nhà cho ĐV, TTN và nhân dân": 2},
    "PL6": {"Giám sát": 2},
}
SOURCE_LINE = "(Kèm theo Kế hoạch số 161-KH/ĐTN ngày 06/01/2021 của BTV Huyện đoàn Thọ Xuân)"
VALIDATION_TYPE = {"count": "whole", "number": "decimal", "money": "decimal",
                   "percent": "decimal", "choice": "list", "date": "date", "text": "textLength"}
NUM_FORMAT = {"count": "#,##0", "money": "#,##0.0##", "percent": "0.0", "date": "dd/mm/yyyy"}
FORM_IDS = list(SEED_LABELS)


def _norm(text: object) -> str:
    return unicodedata.normalize("NFC", str(text)).casefold()


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def made(campaign: Campaign, units: UnitRegistry, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("templates")
    return make_templates(campaign, units, units.get("TX"), out)


@pytest.fixture(scope="module")
def tx01(made) -> Path:
    return next(p for p in made.files if "_TX01_" in p.name)


@pytest.fixture(scope="module")
def book(tx01: Path) -> PyxlWorkbook:
    return load_workbook(tx01)


@pytest.fixture(scope="module")
def cached(tx01: Path) -> PyxlWorkbook:
    return load_workbook(tx01, data_only=True)


@pytest.fixture(scope="module")
def meta(book: PyxlWorkbook):
    return parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))


def _header_texts(ws: PyxlSheet, form: Form) -> list[str]:
    depth = max(len(c.header) for c in form.columns)
    texts = []
    for row in ws.iter_rows(min_row=HEADER_TOP + 1, max_row=HEADER_TOP + depth,
                            values_only=True):
        texts.extend(_norm(v) for v in row if v is not None)
    return texts


def _in_validation(ws: PyxlSheet, cell: str) -> list[str]:
    return [dv.type for dv in ws.data_validations.dataValidation if cell in dv.sqref]


# ---------------------------------------------------------------------------- files


def test_one_file_per_child_plus_blank(made, units: UnitRegistry) -> None:
    children = units.children("TX")
    assert len(made.files) == len(children) == 32
    assert made.blank.name == "nq02-2020_mau-trong.xlsx"
    names = sorted(p.name for p in made.blank.parent.iterdir())
    assert len(names) == len(children) + 1
    assert "nq02-2020_TX01_doan-thi-tran-tho-xuan.xlsx" in names
    assert "nq02-2020_TX31_doan-cong-ty-cp-mia-duong-lam-son.xlsx" in names
    assert all(n.isascii() and " " not in n for n in names)


def test_slug_and_filename(campaign: Campaign) -> None:
    assert slugify("Đoàn xã Xuân Hồng") == "doan-xa-xuan-hong"
    assert slugify("  Đoàn trường THPT Lê Lợi!! ") == "doan-truong-thpt-le-loi"
    odd = Unit("../X 1", "Đơn vị / lạ", "co_so", "TX", "")
    name = template_filename(campaign, odd)
    assert "/" not in name and not name.startswith(".")


def test_per_unit_identity(made, units: UnitRegistry, campaign: Campaign) -> None:
    for path in [*made.files[:3], made.blank]:
        wb = load_workbook(path)
        m = parse_meta(list(wb[META_SHEET].iter_rows(values_only=True)))
        code = path.name.split("_")[1] if path != made.blank else ""
        assert m.identity == {
            "campaign": "nq02-2020",
            "unit_code": code,
            "unit_name": units.get(code).name if code else "",
            "kind": "template",
            "template_version": campaign.template_version,
            "spec_sha256": campaign.spec_sha256,
            "generated_at": "2021-01-06T00:00:00",
        }
        assert list(m.identity) == list(IDENTITY_KEYS)
        assert wb[META_SHEET].sheet_state == "veryHidden"
        assert wb[META_SHEET].protection.sheet
        assert all(c.data_type == "s" for row in wb[META_SHEET].iter_rows() for c in row
                   if c.value is not None)


def test_custom_properties_are_text(tx01: Path, units: UnitRegistry) -> None:
    with zipfile.ZipFile(tx01) as z:
        root = ElementTree.fromstring(z.read("docProps/custom.xml"))
    ns = {"p": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
          "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"}
    props = {}
    for prop in root.findall("p:property", ns):
        children = list(prop)
        assert len(children) == 1 and children[0].tag.endswith("}lpwstr"), prop.get("name")
        props[prop.get("name")] = children[0].text or ""
    assert set(props) == set(IDENTITY_KEYS)
    assert props["unit_code"] == "TX01"
    assert props["unit_name"] == units.get("TX01").name
    assert props["kind"] == "template"


def test_blank_custom_properties_are_empty_text(made) -> None:
    with zipfile.ZipFile(made.blank) as z:
        xml = z.read("docProps/custom.xml").decode()
    assert re.search(r'name="unit_code"><vt:lpwstr></vt:lpwstr>', xml)
    assert re.search(r'name="unit_name"><vt:lpwstr></vt:lpwstr>', xml)


def test_reproducible(campaign: Campaign, units: UnitRegistry, made, tmp_path: Path) -> None:
    unit, office = units.get("TX02"), units.get("TX")
    assert template_bytes(campaign, unit, office) == template_bytes(campaign, unit, office)
    again = make_templates(campaign, units, office, tmp_path)
    for a, b in zip([*made.files, made.blank], [*again.files, again.blank], strict=True):
        assert a.name == b.name
        assert a.read_bytes() == b.read_bytes()
    wb = load_workbook(again.blank)
    assert wb.properties.created == dt.datetime(2021, 1, 6)


def test_generated_at_is_recorded(campaign: Campaign, units: UnitRegistry) -> None:
    when = dt.datetime(2021, 1, 8, 9, 30)
    data = template_bytes(campaign, units.get("TX03"), units.get("TX"), generated_at=when)
    wb = load_workbook(io.BytesIO(data))
    m = parse_meta(list(wb[META_SHEET].iter_rows(values_only=True)))
    assert m.identity["generated_at"] == "2021-01-08T09:30:00"
    assert wb.properties.created == when


def test_output_folder_that_cannot_be_made(campaign: Campaign, units: UnitRegistry,
                                           tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="Không tạo được thư mục"):
        make_templates(campaign, units, units.get("TX"), blocker / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


# ---------------------------------------------------------------------------- sheets


def test_sheets_and_guide(book: PyxlWorkbook, campaign: Campaign) -> None:
    assert book.sheetnames == [GUIDE_SHEET, *FORM_IDS, META_SHEET]
    assert book.active.title == GUIDE_SHEET
    texts = "\n".join(str(v) for row in book[GUIDE_SHEET].iter_rows(values_only=True)
                      for v in row if v is not None)
    for expected in ("161-KH/ĐTN", "06/01/2021", "BTV Huyện đoàn Thọ Xuân",
                     "Đoàn thị trấn Thọ Xuân", "TX01", "20/01/2021",
                     "vanphong@thoxuan.doan.example", campaign.return_to,
                     *campaign.instructions):
        assert expected in texts
    for form in campaign.forms:
        assert form.title in texts and form.sheet in texts
    assert book[GUIDE_SHEET].protection.sheet


def test_blank_guide_lists_all_deadlines(campaign: Campaign) -> None:
    wb = load_workbook(io.BytesIO(template_bytes(campaign, None, None)))
    texts = " ".join(str(v) for row in wb[GUIDE_SHEET].iter_rows(values_only=True)
                     for v in row if v is not None)
    assert "20/01/2021" in texts and "30/01/2021" in texts
    assert wb["PL2"].cell(UNIT_ROW + 1, 1).value == "ĐƠN VỊ: ……………"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_heading_block(book: PyxlWorkbook, campaign: Campaign, form_id: str) -> None:
    ws = book[form_id]
    form = campaign.form(form_id)
    assert ws.cell(ORG_ROW + 1, 1).value == "HUYỆN ĐOÀN THỌ XUÂN"
    assert ws.cell(UNIT_ROW + 1, 1).value == "ĐOÀN THỊ TRẤN THỌ XUÂN"
    assert ws.cell(UNIT_ROW + 1, 1).font.b
    values = [c.value for row in ws.iter_rows(max_row=SOURCE_ROW + 1) for c in row]
    assert "ĐOÀN TNCS HỒ CHÍ MINH" in values
    assert "***" in values
    assert ws.cell(NUMBER_TITLE_ROW + 1, 1).value == form.number.upper()
    assert ws.cell(TITLE_ROW + 1, 1).value == form.title
    assert ws.cell(SOURCE_ROW + 1, 1).value == SOURCE_LINE
    title_merge = [r for r in ws.merged_cells.ranges if r.min_row == TITLE_ROW + 1]
    assert title_merge and title_merge[0].min_col == 1


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_seed_labels_in_header(book: PyxlWorkbook, campaign: Campaign, form_id: str) -> None:
    ws = book[form_id]
    texts = _header_texts(ws, campaign.form(form_id))
    for label in SEED_LABELS[form_id]:
        wanted = _norm(SEED_WORDS.get(label, label))
        assert any(wanted in t for t in texts), f"{form_id}: {label!r} not in header"
    for year in SEED_ROWS.get(form_id, []):
        col_a = [str(c.value) for c in ws["A"] if c.value is not None]
        assert year in col_a


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_group_headers_are_merged(book: PyxlWorkbook, campaign: Campaign, form_id: str) -> None:
    """Every header prefix shared by several columns is one merged cell over exactly those
    columns, on the row of its depth (derived from the spec, not from the layout)."""
    ws = book[form_id]
    form = campaign.form(form_id)
    merges = {(r.min_row, r.min_col, r.max_col) for r in ws.merged_cells.ranges}
    groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
    for i, col in enumerate(form.columns):
        for depth in range(1, len(col.header)):
            groups.setdefault((depth, col.header[:depth]), []).append(i + 2)  # A = row header
    for (depth, prefix), cols in groups.items():
        row = HEADER_TOP + depth
        assert (row, min(cols), max(cols)) in merges, f"{prefix} not merged over {cols}"
        assert ws.cell(row, min(cols)).value == prefix[-1]
        assert ws.cell(row, min(cols)).font.b
    for label, span in SEED_GROUPS.get(form_id, {}).items():
        hits = [r for r in ws.merged_cells.ranges if ws.cell(r.min_row, r.min_col).value == label]
        assert hits and hits[0].max_col - hits[0].min_col + 1 == span, label


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_map_cells_are_unlocked_validated_inputs(book: PyxlWorkbook, meta, campaign: Campaign,
                                                 form_id: str) -> None:
    form = campaign.form(form_id)
    ws = book[form.sheet]
    entries = [c for c in meta.cells if c.form == form_id and c.column != CONFIRM_KEY]
    expected_rows = {"list": [str(i) for i in range(1, form.list_rows + 1)],
                     "fixed_rows": [r.key for r in form.rows], "single_row": ["-"]}[form.kind]
    assert {(e.row, e.column) for e in entries} == {
        (r, c.key) for r in expected_rows for c in form.columns if c.aggregate != "ratio"}
    notes = [c for c in meta.cells if c.form == form_id and c.column == CONFIRM_KEY]
    if form.kind == "list":  # a list of documents has no figure to flag: nothing to confirm
        assert notes == []
    else:
        (note,) = notes
        assert note.row == "-" and note.sheet == form.sheet
        cell = ws[note.cell]
        assert cell.protection.locked is False and cell.fill.fgColor.rgb.endswith("FFF2CC")
        assert cell.font.name == "Times New Roman" and cell.alignment.wrap_text
        assert ws.cell(cell.row, 1).font.name == "Times New Roman"
        assert ws[note.cell].row > max(ws[e.cell].row for e in entries) + 1  # under the table
    for e in entries:
        col = form.column(e.column)
        cell = ws[e.cell]
        assert e.sheet == form.sheet
        assert cell.protection.locked is False, e
        assert cell.fill.fgColor.rgb.endswith("FFF2CC"), e
        assert cell.font.name == "Times New Roman"
        assert _in_validation(ws, e.cell) == [VALIDATION_TYPE[col.type]], e
        if col.type in NUM_FORMAT:
            assert cell.number_format == NUM_FORMAT[col.type]


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_everything_else_locked_and_sheet_protected(book: PyxlWorkbook, meta,
                                                    form_id: str) -> None:
    ws = book[form_id]
    inputs = {c.cell for c in meta.cells if c.form == form_id}
    for note in (c.cell for c in meta.cells if c.form == form_id and c.column == CONFIRM_KEY):
        for r in ws.merged_cells.ranges:  # the confirmation cell is merged over the width
            if note in r:
                inputs |= {cell.coordinate for row in ws[r.coord] for cell in row}
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column):
        for cell in row:
            if cell.coordinate in inputs:
                continue
            assert cell.protection.locked is not False, cell.coordinate
            if cell.value is not None:
                assert cell.font.name == "Times New Roman", cell.coordinate
    p = ws.protection
    assert p.sheet and not p.password
    assert p.formatColumns is False and p.formatRows is False  # users may widen
    assert p.insertRows and p.insertColumns and p.deleteRows and p.deleteColumns


def test_validation_messages_are_vietnamese(book: PyxlWorkbook) -> None:
    for form_id in FORM_IDS:
        for dv in book[form_id].data_validations.dataValidation:
            assert dv.showErrorMessage and dv.errorStyle in (None, "stop")
            assert dv.prompt and dv.error and len(dv.prompt) <= 255
    pl2 = book["PL2"].data_validations.dataValidation[0]
    assert pl2.operator == "greaterThanOrEqual" and pl2.formula1 == "0"
    assert "Nhập số nguyên không âm" in pl2.prompt
    choice = next(dv for dv in book["PL1"].data_validations.dataValidation if dv.type == "list")
    assert choice.formula1 == '"Nghị quyết,Chỉ thị,Kế hoạch,Chương trình,Hướng dẫn,Công văn,' \
                              'Quyết định,Báo cáo,Khác"'
    date = next(dv for dv in book["PL1"].data_validations.dataValidation if dv.type == "date")
    assert date.operator in (None, "between")  # "between" is the default operator
    serial = {d: (d - dt.date(1899, 12, 30)).days for d in (dt.date(1990, 1, 1),
                                                          dt.date(2100, 12, 31))}
    assert (int(date.formula1), int(date.formula2)) == tuple(serial.values())
    text = next(dv for dv in book["PL1"].data_validations.dataValidation
                if dv.type == "textLength")
    assert (text.operator, text.formula1) == ("lessThanOrEqual", "2000")
    pct = next(dv for dv in book["PL5"].data_validations.dataValidation if dv.type == "decimal"
               and dv.formula2 is not None)
    assert (pct.formula1, pct.formula2) == ("0", "100")


def test_ratio_formulas_with_cached_blank(book: PyxlWorkbook, cached: PyxlWorkbook, meta,
                                          campaign: Campaign) -> None:
    form = campaign.form("PL5")
    where = {(c.row, c.column): c.cell for c in meta.cells if c.form == "PL5"}
    ratios = [c for c in form.columns if c.aggregate == "ratio"]
    assert len(ratios) == 3
    for col in ratios:
        num, den = where[("-", col.numerator)], where[("-", col.denominator)]
        # The ratio sits on the row of its inputs, in the column after them in spec order.
        row = re.sub(r"[A-Z]+", "", num)
        index = [c.key for c in form.columns].index(col.key)
        cell = book["PL5"].cell(int(row), index + 2)
        assert cell.value == f'=IF(AND(ISNUMBER({den}),{den}>0),{num}/{den},"")'
        assert cell.number_format == "0.0%"
        assert cell.protection.locked is not False
        assert cached["PL5"][cell.coordinate].value in (None, "")


@pytest.mark.parametrize("form_id", ["PL4", "PL6"])
def test_total_row_sums(book: PyxlWorkbook, cached: PyxlWorkbook, meta, campaign: Campaign,
                        form_id: str) -> None:
    form = campaign.form(form_id)
    ws = book[form_id]
    by_col: dict[str, list[str]] = {}
    values = [c for c in meta.cells if c.form == form_id and c.column != CONFIRM_KEY]
    for c in values:
        by_col.setdefault(c.column, []).append(c.cell)
    total_row = max(int(re.sub(r"[A-Z]+", "", c.cell)) for c in values) + 1
    assert ws.cell(total_row, 1).value.startswith("Tổng")
    assert ws.cell(total_row, 1).font.b
    for col in form.columns:
        cells = by_col[col.key]
        letter = re.sub(r"\d+", "", cells[0])
        cell = ws[f"{letter}{total_row}"]
        if col.type == "count":
            assert cell.value == f"=SUM({cells[0]}:{cells[-1]})"
            assert cached[form_id][cell.coordinate].value == 0
        else:
            assert cell.value is None
        assert cell.protection.locked is not False


def test_list_form_is_prenumbered(book: PyxlWorkbook, meta, campaign: Campaign) -> None:
    form = campaign.form("PL1")
    rows = sorted({int(re.sub(r"[A-Z]+", "", c.cell)) for c in meta.cells
                   if c.form == "PL1" and c.column != CONFIRM_KEY})
    assert len(rows) == form.list_rows == 40
    ws = book["PL1"]
    assert [ws.cell(r, 1).value for r in rows] == list(range(1, 41))
    assert all(ws.cell(r, 1).protection.locked is not False for r in rows)


def test_single_row_label_is_unit_name(book: PyxlWorkbook, meta) -> None:
    cell = next(c.cell for c in meta.cells if c.form == "PL2")
    row = int(re.sub(r"[A-Z]+", "", cell))
    assert book["PL2"].cell(row, 1).value == "Đoàn thị trấn Thọ Xuân"


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_print_setup(book: PyxlWorkbook, meta, form_id: str) -> None:
    ws = book[form_id]
    first = min(int(re.sub(r"[A-Z]+", "", c.cell)) for c in meta.cells if c.form == form_id)
    assert ws.page_setup.orientation == "landscape"
    # A4, A3 for the widest forms (PL5) so that nothing prints below 9 pt
    assert ws.page_setup.paperSize in ((8, "8") if form_id == "PL5" else (9, "9"))
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (1, None) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == f"${HEADER_TOP + 1}:${first - 1}"
    assert ws.freeze_panes == f"B{first}"
    assert ws.column_dimensions["A"].width > 4


def test_strings_are_never_formulas(campaign: Campaign, units: UnitRegistry) -> None:
    evil = Unit("X1", '=HYPERLINK("http://evil.example","bấm")', "co_so", "TX", "")
    wb = load_workbook(io.BytesIO(template_bytes(campaign, evil, units.get("TX"))))
    cell = wb["PL2"].cell(UNIT_ROW + 1, 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    m = parse_meta(list(wb[META_SHEET].iter_rows(values_only=True)))
    assert m.identity["unit_name"] == evil.name
    assert wb[META_SHEET]["B3"].data_type == "s"


def test_long_choice_list_goes_to_hidden_sheet(campaign: Campaign) -> None:
    """Choices with commas cannot be an inline list: they go to a very hidden list sheet."""
    import dataclasses

    pl1 = campaign.form("PL1")
    col = dataclasses.replace(pl1.columns[0], choices=("Nghị quyết, Chỉ thị", "Khác"))
    form = dataclasses.replace(pl1, columns=(col, *pl1.columns[1:]))
    odd = dataclasses.replace(campaign, forms=(form,))
    wb = load_workbook(io.BytesIO(template_bytes(odd, None, None)))
    dv = next(d for d in wb["PL1"].data_validations.dataValidation if d.type == "list")
    assert dv.formula1 == "'_lists'!$A$1:$A$2"
    assert wb["_lists"].sheet_state == "veryHidden"
    assert wb["_lists"]["A1"].value == "Nghị quyết, Chỉ thị"


def test_merged_ranges_do_not_overlap(book: PyxlWorkbook) -> None:
    for form_id in FORM_IDS:
        seen: set[tuple[int, int]] = set()
        for rng in book[form_id].merged_cells.ranges:
            min_col, min_row, max_col, max_row = range_boundaries(str(rng))
            cells = {(r, c) for r in range(min_row, max_row + 1)
                     for c in range(min_col, max_col + 1)}
            assert not cells & seen, (form_id, str(rng))
            seen |= cells


# ---------------------------------------------------------------------------- LibreOffice


def _soffice() -> str | None:
    import shutil

    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.libreoffice
@pytest.mark.skipif(_soffice() is None, reason="LibreOffice not installed")
def test_printed_template_is_one_page_wide(tx01: Path, tmp_path: Path,
                                           campaign: Campaign) -> None:
    """Print to PDF as a clerk would: every form's last column number, the heading and the
    Vietnamese text are on the page (nothing cut off at the right)."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler (pdftotext) not installed")
    profile = (tmp_path / "lo_profile").as_uri()
    subprocess.run([_soffice(), f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tx01)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (tx01.stem + ".pdf")
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                           capture_output=True, timeout=60).stdout.decode().split("\f")
    for form in campaign.forms:
        page = next(p for p in pages if form.number.upper() in p)
        last = f"({len(form.columns) + 1})"  # the number row's last column
        assert last in page, f"{form.id}: column {last} not printed on the page"
        assert "HUYỆN ĐOÀN THỌ XUÂN" in page and "ĐOÀN TNCS HỒ CHÍ MINH" in page
    assert "HƯỚNG DẪN ĐIỀN BIỂU MẪU BÁO CÁO" in pages[0]
