"""The campaign workbook: a campaign's definition as an .xlsx a clerk edits, loaded back
losslessly into the same objects as the YAML specs.

(a) every built-in campaign survives campaign → data → workbook → data → campaign, and the
templates made from the result are byte-identical (save ``spec_sha256``, which names the
source text); also through ``toolkit campaign load`` into a folder; (b) the workbook read
back cell by cell with openpyxl, expected values taken from the YAML files; (c) clerks'
mistakes, each one Vietnamese line naming sheet, row and column, exit 1, nothing written;
(d) a header with commas stays one header cell; (e) LibreOffice edits the workbook as a
clerk would, and the templates show the change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from lo import LibreOffice, libreoffice_required, lo_fixture  # noqa: F401  (pytest fixtures)
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from toolkit._infra.paths import builtin_schemas_dir, samples_dir
from toolkit.author.workbook import Question, read_questions, read_workbook, workbook_bytes
from toolkit.cli import cli
from toolkit.spec.campaign import Campaign
from toolkit.spec.data import campaign_to_data, canonical, same_campaign
from toolkit.spec.load import campaign_from_data, list_builtin_campaigns, load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.units import load_units
from toolkit.write.templates import template_bytes

CAMPAIGNS = list_builtin_campaigns()
NQ02 = "nq02-2020"
WHEN = dt.datetime(2021, 2, 1, 8, 30)
UNITS = load_units(samples_dir() / "units.csv")
SHEETS = ["Hướng dẫn", "Chiến dịch", "Biểu", "Cột", "Dòng cố định", "Chỉ tiêu", "Quy tắc",
          "Đề cương", "Câu hỏi"]
# The clerk's words for the spec's codes, written here independently of the writer.
TYPE_WORDS = {"count": "Số đếm", "number": "Số", "money": "Số tiền", "percent": "Tỷ lệ (%)",
              "text": "Chữ", "date": "Ngày", "choice": "Lựa chọn"}
KIND_WORDS = {"single_row": "Một dòng", "fixed_rows": "Dòng cố định", "list": "Danh sách",
              "targets": "Chỉ tiêu"}


# --------------------------------------------------------------------------- helpers


def yaml_spec(campaign_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The built-in campaign's YAML files as written in the repository: campaign, forms."""
    folder = builtin_schemas_dir() / campaign_id
    campaign = yaml.safe_load((folder / "campaign.yaml").read_text(encoding="utf-8"))
    forms = {}
    for name in campaign["forms"]:
        form = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        forms[form["id"]] = form
    return campaign, forms


def exported(campaign_id: str) -> bytes:
    return workbook_bytes(*campaign_to_data(load_campaign(campaign_id)))


def edit(data: bytes, change: Callable[[Any], None]) -> bytes:
    """``data`` opened with openpyxl, changed, saved again (what a clerk's program does)."""
    wb = load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def header_index(ws: Worksheet, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


def find_row(ws: Worksheet, header: str, value: Any, *, form: str | None = None,
             nth: int = 0) -> int:
    """The row where ``header`` holds ``value`` (of biểu ``form``; the ``nth`` such row)."""
    col = header_index(ws, header)
    form_col = header_index(ws, "Biểu") if form is not None else 0
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value == value
            and (form is None or ws.cell(r, form_col).value == form)]
    assert len(rows) > nth, f"{ws.title}: no {header} = {value!r} ({form})"
    return rows[nth]


def cell(ws: Worksheet, key_header: str, key: Any, header: str, *, form: str | None = None,
         nth: int = 0) -> Any:
    return ws.cell(find_row(ws, key_header, key, form=form, nth=nth), header_index(ws, header))


def record(ws: Worksheet, row: int) -> dict[str, Any]:
    return {c.value: ws.cell(row, i + 1).value for i, c in enumerate(ws[1])}


def templates_of(campaign: Campaign) -> dict[str, bytes]:
    """The blank template and a unit's template, generated at a fixed time."""
    office = UNITS.get("TX")
    unit = UNITS.children("TX")[0]
    return {"blank": template_bytes(campaign, None, None, generated_at=WHEN),
            unit.code: template_bytes(campaign, unit, office, generated_at=WHEN)}


def with_sha_of(campaign: Campaign, original: Campaign) -> Campaign:
    """``campaign`` with the hash of ``original``: the hash names the YAML text a campaign
    was read from (it differs for the same content written another way), so the templates
    are compared on everything else."""
    return dataclasses.replace(campaign, spec_sha256=original.spec_sha256)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


# --------------------------------------------------------------------------- (a) round trip


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
def test_workbook_round_trip_is_lossless(campaign_id: str) -> None:
    original = load_campaign(campaign_id)
    data = campaign_to_data(original)
    book = workbook_bytes(*data)
    assert workbook_bytes(*data) == book  # same data, same bytes
    again = read_workbook(book)
    assert again == data
    loaded = campaign_from_data(*again, "sổ.xlsx")
    assert canonical(loaded) == canonical(original)
    assert same_campaign(loaded, original)
    assert list(loaded.deadlines) == list(original.deadlines)
    assert templates_of(with_sha_of(loaded, original)) == templates_of(original)


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
def test_campaign_data_is_canonical_and_keeps_the_hash_of_the_yaml(campaign_id: str) -> None:
    original = load_campaign(campaign_id)
    data = campaign_to_data(original)
    assert campaign_to_data(campaign_from_data(*data, "x/campaign.yaml")) == data
    # campaign_from_data on the files' own data gives load_campaign's hash, byte for byte
    raw_campaign, _forms = yaml_spec(campaign_id)
    folder = builtin_schemas_dir() / campaign_id
    forms = [yaml.safe_load((folder / n).read_text(encoding="utf-8"))
             for n in raw_campaign["forms"]]
    rebuilt = campaign_from_data(raw_campaign, forms, folder / "campaign.yaml")
    assert rebuilt == original
    assert rebuilt.spec_sha256 == original.spec_sha256
    assert [f.source for f in rebuilt.forms] == [f.source for f in original.forms]


def test_canonical_comparison_sees_what_matters_and_only_that() -> None:
    original = load_campaign(NQ02)
    data = campaign_to_data(original)
    assert same_campaign(campaign_from_data(*data, "elsewhere.yaml"), original)
    swapped = dict(data[0], deadlines=dict(reversed(list(data[0]["deadlines"].items()))))
    assert canonical(campaign_from_data(swapped, data[1], "x")) == canonical(original)
    assert not same_campaign(campaign_from_data(swapped, data[1], "x"), original)  # order
    forms = [dict(f) for f in data[1]]
    forms[1] = dict(forms[1], columns=[dict(forms[1]["columns"][0], width=9),
                                       *forms[1]["columns"][1:]])
    assert not same_campaign(campaign_from_data(data[0], forms, "x"), original)


def test_campaign_from_data_names_the_form_in_its_errors() -> None:
    from toolkit.spec.errors import SpecError

    campaign, forms = campaign_to_data(load_campaign(NQ02))
    broken = [*forms[:2], dict(forms[2], kind="bang"), *forms[3:]]
    with pytest.raises(SpecError) as info:
        campaign_from_data(campaign, broken, "/x/campaign.yaml")
    assert (info.value.path, info.value.key) == ("/x/pl3.yaml", "kind")
    with pytest.raises(SpecError) as info:
        campaign_from_data(campaign, forms[:5], "/x/campaign.yaml")
    assert info.value.key == "forms" and "6 tệp biểu" in info.value.problem
    with pytest.raises(SpecError) as info:
        campaign_from_data({k: v for k, v in campaign.items() if k != "forms"}, broken, "so")
    assert (info.value.path, info.value.key) == ("so#3", "kind")


def test_text_that_looks_like_a_formula_stays_text() -> None:
    campaign, forms = campaign_to_data(load_campaign(NQ02))
    campaign = dict(campaign, issuer="=HYPERLINK(\"http://x\";\"BTV\")", period="0123")
    book = workbook_bytes(campaign, forms)
    ws = load_workbook(io.BytesIO(book))["Chiến dịch"]
    issuer = cell(ws, "Mục", "Đơn vị ban hành", "Giá trị")
    assert issuer.data_type == "s" and issuer.value == campaign["issuer"]
    assert cell(ws, "Mục", "Kỳ báo cáo", "Giá trị").value == "0123"
    assert read_workbook(book)[0]["issuer"] == campaign["issuer"]


@pytest.mark.parametrize("campaign_id", CAMPAIGNS)
def test_export_then_load_gives_a_folder_make_templates_reads(tmp_path: Path,
                                                              campaign_id: str) -> None:
    book, folder = tmp_path / "khai-bao.xlsx", tmp_path / "chien-dich" / campaign_id
    result = invoke("campaign", "export", campaign_id, "--out", str(book))
    assert result.exit_code == 0, result.output
    result = invoke("campaign", "load", str(book), "--out", str(folder))
    assert result.exit_code == 0, result.output
    assert f"--campaign {folder}" in result.output
    original = load_campaign(campaign_id)
    loaded = load_campaign(folder)
    assert same_campaign(loaded, original)
    assert templates_of(with_sha_of(loaded, original)) == templates_of(original)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["campaign.yaml", *(f"{f.id.lower()}.yaml" for f in original.forms)])
    assert sorted(p.name for p in folder.parent.iterdir()) == [campaign_id]  # no temp left
    # reviewable YAML: block style, Vietnamese as is, header paths as lists
    text = (folder / "campaign.yaml").read_text(encoding="utf-8")
    assert original.issuer in text and "\\u" not in text and "{" not in text
    first = original.forms[0]
    form_text = (folder / f"{first.id.lower()}.yaml").read_text(encoding="utf-8")
    assert f"title: {first.title[:30]}" in form_text


def test_load_refuses_an_existing_folder_unless_forced(tmp_path: Path) -> None:
    book, folder = tmp_path / "a.xlsx", tmp_path / "cd"
    book.write_bytes(exported(NQ02))
    assert invoke("campaign", "load", str(book), "--out", str(folder)).exit_code == 0
    (folder / "pl6.yaml").write_text("id: PL6\n", encoding="utf-8")  # a hand edit
    result = invoke("campaign", "load", str(book), "--out", str(folder))
    assert result.exit_code == 1 and "--force" in result.output
    assert (folder / "pl6.yaml").read_text(encoding="utf-8") == "id: PL6\n"  # untouched
    result = invoke("campaign", "load", str(book), "--out", str(folder), "--force")
    assert result.exit_code == 0, result.output
    assert same_campaign(load_campaign(folder), load_campaign(NQ02))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "cd"]
    # --force never empties a folder that is not a campaign folder
    other = tmp_path / "du-an"
    other.mkdir()
    (other / "ghi-chu.txt").write_text("quan trọng", encoding="utf-8")
    result = invoke("campaign", "load", str(book), "--out", str(other), "--force")
    assert result.exit_code == 1 and "không phải thư mục chiến dịch" in result.output
    assert (other / "ghi-chu.txt").exists()


def test_load_without_out_writes_schemas_of_the_current_folder(tmp_path: Path,
                                                                monkeypatch: Any) -> None:
    book = tmp_path / "a.xlsx"
    book.write_bytes(exported("giua-nhiem-ky-2017-2022"))
    monkeypatch.chdir(tmp_path)
    assert invoke("campaign", "load", "a.xlsx").exit_code == 0
    assert same_campaign(load_campaign(tmp_path / "schemas" / "giua-nhiem-ky-2017-2022"),
                         load_campaign("giua-nhiem-ky-2017-2022"))
    listed = invoke("campaigns")
    assert "(chiến dịch riêng) giua-nhiem-ky-2017-2022" in listed.output


# --------------------------------------------------------------------------- (b) the cells


def test_sheets_headers_and_look() -> None:
    wb = load_workbook(io.BytesIO(exported(NQ02)))
    assert wb.sheetnames[:len(SHEETS)] == SHEETS
    assert [ws.sheet_state for ws in wb.worksheets[:len(SHEETS)]] == ["visible"] * len(SHEETS)
    assert wb.sheetnames[len(SHEETS):] == ["_danh_muc"]
    assert wb["_danh_muc"].sheet_state == "hidden"
    assert wb["Hướng dẫn"]["A1"].value == "KHAI BÁO CHIẾN DỊCH BÁO CÁO"
    assert [c.value for c in wb["Cột"][1]] == [
        "Biểu", "Khóa", "Tiêu đề", "Kiểu", "Bắt buộc", "Nhỏ nhất", "Lớn nhất", "Lựa chọn",
        "Cách tổng hợp", "Tử số", "Mẫu số", "Độ rộng", "Ghi chú"]
    for name in SHEETS[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws["A1"].font.name == "Times New Roman" and ws["A1"].font.b, name
        assert ws["A1"].comment is not None and ws["A1"].comment.text, name
        assert ws.column_dimensions["A"].width >= 7, name
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert texts and all(unicodedata.is_normalized("NFC", t) for t in texts)
    assert not any(t.startswith("=") for t in texts if t != "=")


def test_campaign_and_forms_sheets_hold_the_yaml_values() -> None:
    raw, forms = yaml_spec(NQ02)
    wb = load_workbook(io.BytesIO(exported(NQ02)))
    ws = wb["Chiến dịch"]
    value = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, ws.max_row + 1)
             if ws.cell(r, 1).value != "Hướng dẫn"}
    assert value["Mã chiến dịch"] == raw["id"]
    assert value["Tiêu đề"] == raw["title"]
    assert value["Số văn bản"] == raw["document_number"] == "161-KH/ĐTN"
    assert value["Ngày văn bản"] == dt.datetime.combine(raw["document_date"], dt.time())
    assert value["Hạn nộp cấp cơ sở"].date() == raw["deadlines"]["co_so"]
    assert value["Hạn nộp cấp huyện"].date() == raw["deadlines"]["huyen"]
    assert value["Hạn nộp cấp tỉnh"] is None  # the plan sets none: the row waits, empty
    assert value["Nơi nhận báo cáo"] == raw["return_to"]
    assert value["Phiên bản biểu mẫu"] == raw["template_version"]
    lines = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1)
             if ws.cell(r, 1).value == "Hướng dẫn"]
    assert lines == raw["instructions"]
    assert ws.cell(find_row(ws, "Mục", "Ngày văn bản"), 2).number_format == "dd/mm/yyyy"

    ws = wb["Biểu"]
    for form_id, form in forms.items():
        row = record(ws, find_row(ws, "Mã biểu", form_id))
        assert row["Số"] == form["number"] and row["Tiêu đề"] == form["title"]
        assert row["Loại"] == KIND_WORDS[form["kind"]]
    assert record(ws, find_row(ws, "Mã biểu", "PL1"))["Số dòng"] == forms["PL1"]["list_rows"]
    assert [ws.cell(r, 1).value for r in range(2, 8)] == list(forms)  # the campaign's order


def test_columns_rows_and_rules_sheets_hold_the_yaml_values() -> None:
    _raw, forms = yaml_spec(NQ02)
    wb = load_workbook(io.BytesIO(exported(NQ02)))
    ws = wb["Cột"]
    yaml_columns = [(f["id"], c) for f in forms.values() for c in f["columns"]]
    assert [ws.cell(r, 2).value for r in range(2, 2 + len(yaml_columns))] == [
        c["key"] for _f, c in yaml_columns]
    for form_id, col in yaml_columns:
        row = record(ws, find_row(ws, "Khóa", col["key"], form=form_id))
        header = col["header"] if isinstance(col["header"], list) else [col["header"]]
        assert row["Tiêu đề"] == " › ".join(header)
        assert row["Kiểu"] == TYPE_WORDS[col["type"]]
        assert row["Bắt buộc"] == ("Có" if col.get("required") else None)
    pl1 = forms["PL1"]["columns"][0]
    assert cell(ws, "Khóa", "loai_van_ban", "Lựa chọn").value == "; ".join(pl1["choices"])
    assert cell(ws, "Khóa", "trich_yeu", "Độ rộng").value == 60
    ratio = next(c for c in forms["PL5"]["columns"] if c["key"] == "tap_hop_ty_le")
    row = record(ws, find_row(ws, "Khóa", "tap_hop_ty_le"))
    assert row["Cách tổng hợp"] == "Tỷ lệ tử/mẫu"
    num = next(c for c in forms["PL5"]["columns"] if c["key"] == ratio["numerator"])
    assert row["Tử số"] == num["header"][-1] == "Số ĐV, TN được tập hợp"  # named by its words
    assert cell(ws, "Khóa", "tap_hop_chi_tieu", "Ghi chú").value == forms["PL5"]["columns"][
        0]["note"]

    ws = wb["Dòng cố định"]
    pl4 = [(r["Biểu"], r["Khóa"], r["Nhãn"]) for r in
           (record(ws, i) for i in range(2, ws.max_row + 1)) if r["Biểu"] == "PL4"]
    assert pl4 == [("PL4", y, y) for y in forms["PL4"]["rows"]]

    ws = wb["Quy tắc"]
    rules = [record(ws, r) for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "PL5"]
    assert rules[0] == {"Biểu": "PL5", "Tổng các cột": "Số ĐV, TN được tập hợp",
                        "So sánh": "≤", "Với cột": "Tổng số ĐV, TN trên địa bàn",
                        "Mức độ": "Lỗi"}
    pl2 = record(ws, 2)  # leaves shared by three groups are named with their group
    assert pl2["Tổng các cột"] == ("Bí thư, Phó Bí thư Đoàn › Thạc sỹ + Bí thư, Phó Bí thư "
                                   "Đoàn › Đại học + Bí thư, Phó Bí thư Đoàn › Cao đẳng, Trung "
                                   "cấp")
    assert pl2["Với cột"] == "Bí thư, Phó Bí thư Đoàn › Số lượng"


def test_indicators_sheet_holds_the_yaml_values() -> None:
    _raw, forms = yaml_spec("giua-nhiem-ky-2017-2022")
    wb = load_workbook(io.BytesIO(exported("giua-nhiem-ky-2017-2022")))
    ws = wb["Chỉ tiêu"]
    got = [record(ws, r) for r in range(2, ws.max_row + 1)]
    want = forms["CT"]["indicators"]
    assert [(g["Khóa"], g["Tên chỉ tiêu"]) for g in got] == [(i["key"], i["name"]) for i in want]
    rate = next(g for g in got if g["Khóa"] == "co_so_vung_manh")
    assert rate["Loại"] == "Tỷ lệ" and rate["Chỉ tiêu mặc định"] == 70
    count = next(g for g in got if g["Khóa"] == "ky_nang_thuc_hanh")
    assert count["Loại"] == "Số lượng" and count["Đơn vị tính"] == "người"
    assert wb["Biểu"]["D2"].value == "Chỉ tiêu" and wb["Cột"]["A2"].value == "CTR"


def _validations(ws: Worksheet) -> dict[str, tuple[str, str]]:
    """Header of the validated column → (type, formula1)."""
    out = {}
    headers = [c.value for c in ws[1]]
    for dv in ws.data_validations.dataValidation:
        col = next(iter(dv.sqref.ranges)).min_col
        out[headers[col - 1]] = (dv.type, dv.formula1)
    return out


def _list_entries(wb: Any, formula: str) -> list[str]:
    sheet, ref = formula.lstrip("=").split("!")
    rows = wb[sheet.strip("'")][ref.replace("$", "")]
    return [r[0].value for r in rows if r[0].value is not None]


@pytest.mark.parametrize(("sheet", "header", "entries"), [
    ("Cột", "Kiểu", list(TYPE_WORDS.values())),
    ("Cột", "Cách tổng hợp", ["Cộng", "Tỷ lệ tử/mẫu", "Nối chữ", "Không tổng hợp"]),
    ("Cột", "Bắt buộc", ["Có", "Không"]),
    ("Biểu", "Loại", list(KIND_WORDS.values())),
    ("Chỉ tiêu", "Loại", ["Số lượng", "Tỷ lệ"]),
    ("Quy tắc", "So sánh", ["≤", "≥", "="]),
    ("Quy tắc", "Mức độ", ["Lỗi", "Cảnh báo"]),
    ("Câu hỏi", "Đã trả lời", ["Có", "Không"]),
])
def test_every_closed_vocabulary_is_a_dropdown(sheet: str, header: str,
                                               entries: list[str]) -> None:
    wb = load_workbook(io.BytesIO(exported(NQ02)))
    kind, formula = _validations(wb[sheet])[header]
    assert kind == "list"
    assert _list_entries(wb, formula) == entries


def test_levels_and_forms_are_dropdowns_too() -> None:
    wb = load_workbook(io.BytesIO(exported(NQ02)))
    kind, formula = _validations(wb["Chiến dịch"])["Mục"]
    items = _list_entries(wb, formula)
    assert kind == "list"
    assert {"Hạn nộp cấp cơ sở", "Hạn nộp cấp huyện", "Hạn nộp cấp tỉnh", "Ngày văn bản",
            "Hướng dẫn"} <= set(items)
    for sheet in ("Cột", "Dòng cố định", "Chỉ tiêu", "Quy tắc"):
        kind, formula = _validations(wb[sheet])["Biểu"]
        assert kind == "list" and formula.startswith("'Biểu'!$A$2:$A$")
        assert _list_entries(wb, formula) == ["PL1", "PL2", "PL3", "PL4", "PL5", "PL6"]
    assert _validations(wb["Cột"])["Nhỏ nhất"][0] == "decimal"


def test_questions_of_a_proposal_are_shown_and_never_read_into_the_spec() -> None:
    data = campaign_to_data(load_campaign(NQ02))
    asked = [Question("PL2", "Số lượng", "Bí thư và Phó Bí thư tính chung hay riêng?"),
             Question("PL5", "", "Chỉ tiêu NQ có cộng dồn không?", answered=True,
                      note="Không cộng dồn")]
    book = workbook_bytes(*data, questions=asked)
    ws = load_workbook(io.BytesIO(book))["Câu hỏi"]
    assert record(ws, 2) == {"Biểu": "PL2", "Cột": "Số lượng", "Đã trả lời": "Không",
                             "Câu hỏi": "Bí thư và Phó Bí thư tính chung hay riêng?",
                             "Ghi chú": None}
    assert read_questions(book) == asked
    assert read_workbook(book) == data


# --------------------------------------------------------------------------- (c) mistakes


def set_cell(sheet: str, key_header: str, key: Any, header: str, value: Any, *,
             form: str | None = None) -> Callable[[Any], None]:
    def change(wb: Any) -> None:
        cell(wb[sheet], key_header, key, header, form=form).value = value
    return change


def append_row(sheet: str, values: dict[str, Any]) -> Callable[[Any], None]:
    def change(wb: Any) -> None:
        ws = wb[sheet]
        row = ws.max_row + 1
        for header, value in values.items():
            ws.cell(row, header_index(ws, header)).value = value
    return change


def expect_refused(tmp_path: Path, data: bytes, *needles: str) -> str:
    """``campaign load`` of ``data``: exit 1, one line ``Error: …`` holding ``needles``,
    no traceback, nothing written."""
    book = tmp_path / "so-khai-bao.xlsx"
    book.write_bytes(data)
    out = tmp_path / "chien-dich"
    result = invoke("campaign", "load", str(book), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: so-khai-bao.xlsx: "), result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert unicodedata.is_normalized("NFC", lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [book.name]  # nothing written
    return lines[0]



@pytest.mark.parametrize(("key", "typed"), [
    ("bt_thac_sy", "so"), ("bt_thac_sy", "integer"), ("ghi_chu", "Số nguyên"),
    ("trich_yeu", "văn bản"), ("loai_van_ban", "danh sach"),
])
def test_unknown_type(tmp_path: Path, key: str, typed: str) -> None:
    ws = load_workbook(io.BytesIO(exported(NQ02)))["Cột"]
    row = find_row(ws, "Khóa", key)
    expect_refused(tmp_path, edit(exported(NQ02), set_cell("Cột", "Khóa", key, "Kiểu", typed)),
                   f"Trang «Cột», dòng {row}, cột «Kiểu»: kiểu «{typed}» không có; dùng: "
                   "Số đếm (count), Số (number), Số tiền (money), Tỷ lệ (%) (percent), Chữ "
                   "(text), Ngày (date), Lựa chọn (choice)")


def test_type_may_be_a_code_or_a_label_in_any_case(tmp_path: Path) -> None:
    change = [set_cell("Cột", "Khóa", "bt_thac_sy", "Kiểu", "number"),
              set_cell("Cột", "Khóa", "bt_dai_hoc", "Kiểu", "  số  TIỀN ")]
    data = read_workbook(edit(exported(NQ02), lambda wb: [c(wb) for c in change]))
    pl2 = {c["key"]: c for c in data[1][1]["columns"]}
    assert pl2["bt_thac_sy"]["type"] == "number" and pl2["bt_dai_hoc"]["type"] == "money"


@pytest.mark.parametrize(("form", "cell_value", "typed", "problem"), [
    ("PL5", "Tổng số ĐV, TN trên địa bàn", "Tổng số", "không có cột «Tổng số» trong biểu «PL5»"),
    ("PL5", "Tổng số ĐV, TN trên địa bàn", "khong_co", "không có cột «khong_co»"),
    ("PL2", "Bí thư, Phó Bí thư Đoàn › Số lượng", "Ban Thường vụ › Thạc sĩ",
     "không có cột «Ban Thường vụ › Thạc sĩ»"),
    ("PL2", "Bí thư, Phó Bí thư Đoàn › Số lượng", "Số lượng",
     "«Số lượng» chỉ nhiều cột của biểu «PL2» (Bí thư, Phó Bí thư Đoàn › Số lượng; Ban "
     "Thường vụ › Số lượng; Ban Chấp hành › Số lượng); ghi rõ hơn"),
])
def test_rule_naming_a_missing_or_ambiguous_column(tmp_path: Path, form: str, cell_value: str,
                                                   typed: str, problem: str) -> None:
    ws = load_workbook(io.BytesIO(exported(NQ02)))["Quy tắc"]
    row = find_row(ws, "Với cột", cell_value)
    assert ws.cell(row, 1).value == form
    expect_refused(tmp_path, edit(exported(NQ02),
                                  set_cell("Quy tắc", "Với cột", cell_value, "Với cột", typed)),
                   f"Trang «Quy tắc», dòng {row}, cột «Với cột»: {problem}")


def test_rule_naming_a_missing_column_on_the_left(tmp_path: Path) -> None:
    ws = load_workbook(io.BytesIO(exported(NQ02)))["Quy tắc"]
    left = ws["B2"].value
    typed = left.replace("Thạc sỹ", "Tiến sỹ")
    expect_refused(tmp_path, edit(exported(NQ02), set_cell("Quy tắc", "Tổng các cột", left,
                                                           "Tổng các cột", typed)),
                   "Trang «Quy tắc», dòng 2, cột «Tổng các cột»: không có cột «Bí thư, Phó Bí "
                   "thư Đoàn › Tiến sỹ» trong biểu «PL2»")


@pytest.mark.parametrize(("campaign_id", "form", "other"), [
    (NQ02, "PL3", "PL2"), (NQ02, "PL6", "PL1"), ("giua-nhiem-ky-2017-2022", "CTR", "CT"),
])
def test_two_forms_with_the_same_id(tmp_path: Path, campaign_id: str, form: str,
                                    other: str) -> None:
    ws = load_workbook(io.BytesIO(exported(campaign_id)))["Biểu"]
    rows = find_row(ws, "Mã biểu", other), find_row(ws, "Mã biểu", form)
    expect_refused(tmp_path, edit(exported(campaign_id),
                                  set_cell("Biểu", "Mã biểu", form, "Mã biểu", other)),
                   f"Trang «Biểu», dòng {max(rows)}, cột «Mã biểu»: mã biểu «{other}» đã có "
                   f"ở dòng {min(rows)}")


def _blank_workbook(*names: str) -> bytes:
    wb = Workbook()
    for i, name in enumerate(names):
        if i == 0:
            wb.active.title = name
        else:
            wb.create_sheet(name)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("data", "problem"), [
    (_blank_workbook("Sheet1"), "tệp không phải sổ khai báo chiến dịch: không có trang nào"),
    (_blank_workbook("Trang tính1", "Trang tính2"), "không có trang nào trong các trang "
                                                    "«Chiến dịch», «Biểu»"),
    (b"", "tệp rỗng"),
    (b"PK\x03\x04 not a zip", "không đọc được tệp: cần bảng tính .xlsx"),
    ("Mã biểu,Tiêu đề\nPL1,Văn bản\n".encode(), "không đọc được tệp"),
])
def test_empty_or_foreign_workbook(tmp_path: Path, data: bytes, problem: str) -> None:
    expect_refused(tmp_path, data, problem)


@pytest.mark.parametrize("sheet", ["Chiến dịch", "Biểu", "Cột", "Dòng cố định", "Chỉ tiêu",
                                   "Quy tắc"])
def test_missing_sheet(tmp_path: Path, sheet: str) -> None:
    data = edit(exported(NQ02), lambda wb: wb.remove(wb[sheet]))
    expect_refused(tmp_path, data, f"tệp không có trang «{sheet}»")


def test_sheets_that_are_only_read_by_people_may_go(tmp_path: Path) -> None:
    def drop(wb: Any) -> None:
        for name in ("Hướng dẫn", "Câu hỏi", "_danh_muc"):
            wb.remove(wb[name])
        ws = wb["Chiến dịch"]
        ws.delete_cols(header_index(ws, "Giải thích"))
    data = edit(exported(NQ02), drop)
    assert read_workbook(data) == campaign_to_data(load_campaign(NQ02))


def test_missing_header_column(tmp_path: Path) -> None:
    def drop(wb: Any) -> None:
        wb["Cột"].delete_cols(header_index(wb["Cột"], "Cách tổng hợp"))
    expect_refused(tmp_path, edit(exported(NQ02), drop),
                   "Trang «Cột», dòng 1: thiếu cột «Cách tổng hợp»")


@dataclasses.dataclass(frozen=True)
class At:
    """Where the error must point: the row of ``sheet`` whose ``key_header`` holds ``key``
    (of biểu ``form``, the ``nth`` such row), and the column ``header``."""

    sheet: str
    key_header: str
    key: Any
    header: str
    form: str | None = None
    nth: int = 0


RATE = "Tổng số ĐV, TN trên địa bàn"  # PL5's first rule compares with this column
RATE_PATH = "Tỷ lệ thu hút, tập hợp đoàn viên, thanh niên › Tỷ lệ (%)"  # a computed column
MISTAKES = [
    (set_cell("Cột", "Khóa", "so_hieu", "Biểu", "PL9"), At("Cột", "Khóa", "so_hieu", "Biểu"),
     "không có biểu «PL9» ở trang «Biểu» (các biểu: PL1, PL2, PL3, PL4, PL5, PL6)"),
    (set_cell("Cột", "Khóa", "kiem_tra", "Cách tổng hợp", "trung bình"),
     At("Cột", "Khóa", "kiem_tra", "Cách tổng hợp"),
     "cách tổng hợp «trung bình» không có; dùng: Cộng (sum), Tỷ lệ tử/mẫu (ratio)"),
    (set_cell("Cột", "Khóa", "du_sinh_hoat", "Nhỏ nhất", "năm"),
     At("Cột", "Khóa", "du_sinh_hoat", "Nhỏ nhất"), "«năm» không phải là số"),
    (set_cell("Cột", "Khóa", "du_sinh_hoat", "Lớn nhất", "1O0"),
     At("Cột", "Khóa", "du_sinh_hoat", "Lớn nhất"), "«1O0» không phải là số"),
    (set_cell("Cột", "Khóa", "tap_hop_chi_tieu", "Nhỏ nhất", 150),
     At("Cột", "Khóa", "tap_hop_chi_tieu", "Nhỏ nhất"), "Nhỏ nhất (150) lớn hơn Lớn nhất (100)"),
    (set_cell("Cột", "Khóa", "so_hieu", "Bắt buộc", "chắc chắn"),
     At("Cột", "Khóa", "so_hieu", "Bắt buộc"), "«chắc chắn» không hợp lệ; dùng: Có hoặc Không"),
    (set_cell("Cột", "Khóa", "tap_hop_ty_le", "Kiểu", "Số đếm"),
     At("Cột", "Khóa", "tap_hop_ty_le", "Kiểu"), "cột tính Tỷ lệ tử/mẫu phải có kiểu Tỷ lệ (%)"),
    (set_cell("Cột", "Khóa", "tap_hop_ty_le", "Tử số", "Tỷ lệ"),
     At("Cột", "Khóa", "tap_hop_ty_le", "Tử số"), "không có cột «Tỷ lệ» trong biểu «PL5»"),
    (set_cell("Cột", "Khóa", "ghi_chu", "Cách tổng hợp", "Cộng"),
     At("Cột", "Khóa", "ghi_chu", "Cách tổng hợp"), "không thể Cộng cột kiểu Chữ"),
    (set_cell("Cột", "Khóa", "loai_van_ban", "Lựa chọn", None),
     At("Cột", "Khóa", "loai_van_ban", "Lựa chọn"), "cột kiểu Lựa chọn cần các lựa chọn"),
    (set_cell("Cột", "Khóa", "so_hieu", "Khóa", "so hieu"), At("Cột", "Khóa", "so hieu", "Khóa"),
     "khóa cột 'so hieu' chỉ được gồm chữ không dấu"),
    (set_cell("Cột", "Khóa", "bt_dai_hoc", "Khóa", "bt_thac_sy", form="PL2"),
     At("Cột", "Khóa", "bt_thac_sy", "Khóa", form="PL2", nth=1),
     "khóa «bt_thac_sy» đã có ở dòng 7 (biểu «PL2»)"),
    (set_cell("Cột", "Khóa", "trich_yeu", "Tiêu đề", "Nội dung ›  › Trích yếu"),
     At("Cột", "Khóa", "trich_yeu", "Tiêu đề"),
     "tiêu đề «Nội dung ›  › Trích yếu» có tầng trống; các tầng cách nhau bởi một dấu ›"),
    (set_cell("Cột", "Khóa", "trich_yeu", "Tiêu đề", None),
     At("Cột", "Khóa", "trich_yeu", "Tiêu đề"), "chưa ghi tiêu đề cột"),
    (set_cell("Biểu", "Mã biểu", "PL3", "Loại", "bảng"), At("Biểu", "Mã biểu", "PL3", "Loại"),
     "loại biểu «bảng» không có; dùng: Một dòng (single_row), Dòng cố định (fixed_rows)"),
    (set_cell("Biểu", "Mã biểu", "PL3", "Loại", None), At("Biểu", "Mã biểu", "PL3", "Loại"),
     "chưa chọn loại biểu"),
    (set_cell("Biểu", "Mã biểu", "PL1", "Số dòng", 12.5),
     At("Biểu", "Mã biểu", "PL1", "Số dòng"), "«12,5» phải là số nguyên"),
    (set_cell("Biểu", "Mã biểu", "PL1", "Số dòng", 5000),
     At("Biểu", "Mã biểu", "PL1", "Số dòng"), "số dòng của biểu danh sách phải từ 1 đến 1000"),
    (set_cell("Biểu", "Mã biểu", "PL2", "Tiêu đề", None),
     At("Biểu", "Mã biểu", "PL2", "Tiêu đề"), "thiếu khóa bắt buộc"),
    (set_cell("Biểu", "Mã biểu", "PL2", "Mã biểu", "PL 2"),
     At("Biểu", "Mã biểu", "PL 2", "Mã biểu"),
     "mã biểu «PL 2» là tên trang tính: chỉ được gồm chữ không dấu, số và _, không cách"),
    (set_cell("Chiến dịch", "Mục", "Ngày văn bản", "Giá trị", "31/02/2021"),
     At("Chiến dịch", "Mục", "Ngày văn bản", "Giá trị"),
     "ngày «31/02/2021» không hợp lệ; viết dạng ngày/tháng/năm, ví dụ 20/01/2021"),
    (set_cell("Chiến dịch", "Mục", "Hạn nộp cấp huyện", "Giá trị", "cuối tháng"),
     At("Chiến dịch", "Mục", "Hạn nộp cấp huyện", "Giá trị"), "ngày «cuối tháng» không hợp lệ"),
    (set_cell("Chiến dịch", "Mục", "Đơn vị ban hành", "Giá trị", None),
     At("Chiến dịch", "Mục", "Đơn vị ban hành", "Giá trị"), "chưa ghi đơn vị ban hành"),
    (set_cell("Chiến dịch", "Mục", "Kỳ báo cáo", "Mục", "Giai đoạn"),
     At("Chiến dịch", "Mục", "Giai đoạn", "Mục"), "mục «Giai đoạn» không có; dùng: Mã chiến dịch"),
    (set_cell("Chiến dịch", "Mục", "Kỳ báo cáo", "Mục", "Tiêu đề"),
     At("Chiến dịch", "Mục", "Tiêu đề", "Mục", nth=1), "mục «Tiêu đề» đã có ở dòng 3"),
    (set_cell("Chiến dịch", "Mục", "Mã chiến dịch", "Giá trị", "../nq02"),
     At("Chiến dịch", "Mục", "Mã chiến dịch", "Giá trị"), "mã chiến dịch «../nq02» chỉ được gồm"),
    (set_cell("Dòng cố định", "Khóa", "2017", "Khóa", "2016", form="PL4"),
     At("Dòng cố định", "Khóa", "2016", "Khóa", form="PL4", nth=1),
     "dòng «2016» của biểu «PL4» đã có ở dòng 2"),
    (set_cell("Dòng cố định", "Khóa", "2017", "Biểu", "PL5", form="PL4"),
     At("Dòng cố định", "Khóa", "2017", "Biểu", form="PL5"),
     "biểu «PL5» là loại Một dòng: chỉ biểu loại Dòng cố định mới khai dòng ở trang này"),
    (set_cell("Quy tắc", "Với cột", RATE, "So sánh", "<>"),
     At("Quy tắc", "Với cột", RATE, "So sánh"),
     "phép so sánh «<>» không có; dùng: ≤, ≥ hoặc ="),
    (set_cell("Quy tắc", "Với cột", RATE, "Mức độ", "nặng"),
     At("Quy tắc", "Với cột", RATE, "Mức độ"),
     "mức độ «nặng» không có; dùng: Lỗi (error), Cảnh báo (warning)"),
    (set_cell("Quy tắc", "Với cột", RATE, "Với cột", "Ghi chú"),
     At("Quy tắc", "Với cột", "Ghi chú", "Với cột"), "không có cột «Ghi chú» trong biểu «PL5»"),
    (set_cell("Quy tắc", "Với cột", RATE, "Với cột", RATE_PATH),
     At("Quy tắc", "Với cột", RATE_PATH, "Với cột"),
     "quy tắc chỉ áp dụng cho cột số nhập liệu"),
]


@pytest.mark.parametrize(("change", "at", "problem"), MISTAKES,
                         ids=[f"{m[1].sheet}-{m[1].header}-{i}" for i, m in enumerate(MISTAKES)])
def test_each_mistake_names_sheet_row_and_column(tmp_path: Path, change: Any, at: At,
                                                 problem: str) -> None:
    data = edit(exported(NQ02), change)
    ws = load_workbook(io.BytesIO(data))[at.sheet]
    row = find_row(ws, at.key_header, at.key, form=at.form, nth=at.nth)
    expect_refused(tmp_path, data, f"Trang «{at.sheet}», dòng {row}, cột «{at.header}»: {problem}")


def test_targets_mistakes(tmp_path: Path) -> None:
    for sub in "abc":
        (tmp_path / sub).mkdir()
    book = exported("giua-nhiem-ky-2017-2022")
    ws = load_workbook(io.BytesIO(book))["Chỉ tiêu"]
    row = find_row(ws, "Khóa", "chi_doan_moi")
    expect_refused(tmp_path / "a", edit(book, set_cell("Chỉ tiêu", "Khóa", "chi_doan_moi", "Loại",
                                                       "phần trăm")),
                   f"Trang «Chỉ tiêu», dòng {row}, cột «Loại»: loại chỉ tiêu «phần trăm» không "
                   "có; dùng: Số lượng (count), Tỷ lệ (rate)")
    row = find_row(ws, "Khóa", "co_so_vung_manh")
    expect_refused(tmp_path / "b", edit(book, set_cell("Chỉ tiêu", "Khóa", "co_so_vung_manh",
                                                       "Chỉ tiêu mặc định", 170)),
                   f"Trang «Chỉ tiêu», dòng {row}, cột «Chỉ tiêu mặc định»: chỉ tiêu mặc định "
                   "phải ≥ 0 (tỷ lệ: từ 0 đến 100)")
    expect_refused(tmp_path / "c", edit(book, append_row("Cột", {
        "Biểu": "CT", "Tiêu đề": "Ghi chú thêm", "Kiểu": "Chữ"})),
        "Trang «Cột», dòng 7, cột «Biểu»: biểu «CT» là loại Chỉ tiêu: các cột của biểu chỉ "
        "tiêu do máy tạo")


def test_workbook_error_is_one_type_with_its_position() -> None:
    from toolkit.author.workbook import WorkbookError
    from toolkit.cli.common import KNOWN_ERRORS

    data = edit(exported(NQ02), set_cell("Cột", "Khóa", "ghi_chu", "Kiểu", "so"))
    with pytest.raises(WorkbookError) as info:
        read_workbook(data)
    err = info.value
    assert (err.sheet, err.column) == ("Cột", "Kiểu") and err.row and err.row > 1
    assert WorkbookError in KNOWN_ERRORS


# --------------------------------------------------------------------------- what a clerk does


def test_clerk_edits_labels_paths_blank_keys_and_whole_rules() -> None:
    """Typed as a clerk types: a new column without a key, a header path with ">", a
    required "x", a whole rule in one cell, an extra instruction line."""
    changes = [
        append_row("Cột", {"Biểu": "PL4", "Tiêu đề": "Cơ sở tổ chức > Số đoàn viên nữ",
                           "Kiểu": "Số đếm", "Bắt buộc": "x"}),
        append_row("Quy tắc", {"Biểu": "PL4",
                               "Tổng các cột": "Số đoàn viên nữ <= Số người tham gia"}),
        append_row("Chiến dịch", {"Mục": "hướng dẫn", "Giá trị": "Gửi kèm báo cáo bằng văn bản."}),
    ]
    data = read_workbook(edit(exported(NQ02), lambda wb: [c(wb) for c in changes]))
    campaign = campaign_from_data(*data, "x.xlsx")
    pl4 = campaign.form("PL4")
    new = pl4.columns[-1]
    assert new.key == "co_so_to_chuc_so_doan_vien_nu"
    assert new.header == ("Cơ sở tổ chức", "Số đoàn viên nữ")
    assert new.type == "count" and new.required and new.min == 0
    assert pl4.rules[-1].left == (new.key,) and pl4.rules[-1].right == "co_so_so_nguoi"
    assert pl4.rules[-1].op == "le"
    assert campaign.instructions[-1] == "Gửi kèm báo cáo bằng văn bản."


def test_a_date_typed_as_text_and_numbers_typed_as_text_are_read() -> None:
    changes = [set_cell("Chiến dịch", "Mục", "Hạn nộp cấp huyện", "Giá trị", "2/2/2021"),
               set_cell("Chiến dịch", "Mục", "Hạn nộp cấp tỉnh", "Giá trị", "2021-02-15"),
               set_cell("Cột", "Khóa", "trich_yeu", "Độ rộng", "45,5"),
               set_cell("Chiến dịch", "Mục", "Phiên bản biểu mẫu", "Giá trị", 2)]
    data = read_workbook(edit(exported(NQ02), lambda wb: [c(wb) for c in changes]))
    assert data[0]["deadlines"] == {"co_so": dt.date(2021, 1, 20),
                                    "huyen": dt.date(2021, 2, 2),
                                    "tinh": dt.date(2021, 2, 15)}
    assert list(data[0]["deadlines"]) == ["co_so", "huyen", "tinh"]
    assert data[0]["template_version"] == "2"
    assert data[1][0]["columns"][3]["width"] == 45.5


# --------------------------------------------------------------------------- (d) commas


def header_cells(template: bytes, sheet: str) -> list[str]:
    ws = load_workbook(io.BytesIO(template))[sheet]
    return [c.value for row in ws.iter_rows(max_row=14) for c in row if isinstance(c.value, str)]


def test_header_with_commas_stays_one_header_cell() -> None:
    """The separator of a header path is › only: "Bí thư, Phó Bí thư Đoàn" and "Cao đẳng,
    Trung cấp" are one level each, in the workbook, in the data and in the template."""
    book = exported(NQ02)
    path = cell(load_workbook(io.BytesIO(book))["Cột"], "Khóa", "bt_cd_tc", "Tiêu đề",
                form="PL2").value
    assert path == "Bí thư, Phó Bí thư Đoàn › Trình độ › Chuyên môn › Cao đẳng, Trung cấp"
    loaded = campaign_from_data(*read_workbook(book), "x.xlsx")
    assert loaded.form("PL2").column("bt_cd_tc").header == (
        "Bí thư, Phó Bí thư Đoàn", "Trình độ", "Chuyên môn", "Cao đẳng, Trung cấp")
    cells = header_cells(template_bytes(loaded, None, None), "PL2")
    assert {"Bí thư, Phó Bí thư Đoàn", "Cao đẳng, Trung cấp"} <= set(cells)
    assert "Phó Bí thư Đoàn" not in cells and "Cao đẳng" not in cells


def test_the_programmes_header_is_one_label_and_a_split_path_is_mended() -> None:
    """ctr.yaml once wrote ``header: [Kết quả, Số đoàn viên, thanh niên tham gia, hưởng
    lợi]``: YAML's flow list split it on the commas into four stacked header cells (issue 18
    item 10). The label is quoted now, so the built-in template has it as one cell; and a
    clerk who retypes a split path with › (or >) in the workbook gets the one cell too."""
    campaign_id = "giua-nhiem-ky-2017-2022"
    meant = ("Kết quả", "Số đoàn viên, thanh niên tham gia, hưởng lợi")
    _raw, forms = yaml_spec(campaign_id)
    header = next(c["header"] for c in forms["CTR"]["columns"] if c["key"] == "so_nguoi")
    assert tuple(header) == meant
    built_in = header_cells(template_bytes(load_campaign(campaign_id), None, None), "CTR")
    assert "Số đoàn viên, thanh niên tham gia, hưởng lợi" in built_in
    assert "thanh niên tham gia" not in built_in and "hưởng lợi" not in built_in
    book = exported(campaign_id)
    ws = load_workbook(io.BytesIO(book))["Cột"]
    assert cell(ws, "Khóa", "so_nguoi", "Tiêu đề").value == (
        "Kết quả › Số đoàn viên, thanh niên tham gia, hưởng lợi")
    split = read_workbook(edit(book, set_cell(
        "Cột", "Khóa", "so_nguoi", "Tiêu đề",
        "Kết quả › Số đoàn viên › thanh niên tham gia › hưởng lợi")))
    assert campaign_from_data(*split, "x.xlsx").form("CTR").column("so_nguoi").header == (
        "Kết quả", "Số đoàn viên", "thanh niên tham gia", "hưởng lợi")
    for typed in ("Kết quả › Số đoàn viên, thanh niên tham gia, hưởng lợi",
                  "Kết quả>Số đoàn viên, thanh niên tham gia, hưởng lợi",
                  "  Kết quả  >  Số đoàn viên, thanh niên tham gia, hưởng lợi "):
        mended = read_workbook(edit(book, set_cell("Cột", "Khóa", "so_nguoi", "Tiêu đề", typed)))
        campaign = campaign_from_data(*mended, "x.xlsx")
        assert campaign.form("CTR").column("so_nguoi").header == meant, typed
        cells = header_cells(template_bytes(campaign, None, None), "CTR")
        assert "Số đoàn viên, thanh niên tham gia, hưởng lợi" in cells
        assert "thanh niên tham gia" not in cells and "hưởng lợi" not in cells
        assert cells.count("Kết quả") == 1  # still grouped with its siblings


# --------------------------------------------------------------------------- (e) LibreOffice


def _clerk_actions(book: Path) -> tuple[list[dict[str, Any]], int]:
    """In «Cột»: PL4's first column becomes a decimal number, and a new PL4 column is typed
    into the first empty row, without a key."""
    ws = load_workbook(book)["Cột"]
    kieu = ws.cell(1, header_index(ws, "Kiểu")).column_letter
    row = find_row(ws, "Khóa", "tinh_so_nguoi")
    new = ws.max_row + 1
    letter = {h: ws.cell(1, header_index(ws, h)).column_letter
              for h in ("Biểu", "Tiêu đề", "Kiểu", "Bắt buộc", "Độ rộng")}
    return [
        {"sheet": "Cột", "cell": f"{kieu}{row}", "input": "Số"},
        {"sheet": "Cột", "cell": f"{letter['Biểu']}{new}", "input": "PL4"},
        {"sheet": "Cột", "cell": f"{letter['Tiêu đề']}{new}",
         "input": "Số đoàn viên nữ tham gia, hưởng lợi"},
        {"sheet": "Cột", "cell": f"{letter['Kiểu']}{new}", "input": "Số đếm"},
        {"sheet": "Cột", "cell": f"{letter['Bắt buộc']}{new}", "input": "Có"},
        {"sheet": "Cột", "cell": f"{letter['Độ rộng']}{new}", "input": "12"},
    ], new


@pytest.mark.libreoffice
def test_libreoffice_clerk_changes_a_type_and_adds_a_column(lo: LibreOffice,
                                                            tmp_path: Path) -> None:
    book = tmp_path / "khai-bao.xlsx"
    assert invoke("campaign", "export", NQ02, "--out", str(book)).exit_code == 0
    actions, new_row = _clerk_actions(book)
    refused = [{**actions[0], "input": "so"},  # not in the dropdown: Calc stops it
               {**actions[1], "cell": actions[1]["cell"].replace(str(new_row), "3"),
                "input": "PL9"}]
    saved = {fmt: tmp_path / f"da-sua.{fmt}" for fmt in ("xlsx", "ods")}
    res = lo.run({"open": str(book), "actions": [*refused, *actions],
                  "save": [{"path": str(p)} for p in saved.values()]})
    assert [(a["status"], a.get("reason")) for a in res["actions"][:2]] == [
        ("refused", "validation")] * 2, res["actions"][:2]
    done = res["actions"][2:]
    assert [a["status"] for a in done] == ["entered"] * len(actions), done
    assert all(a["lo_invalid"] is not True for a in done), done

    original = load_campaign(NQ02)
    for fmt, path in saved.items():
        folder = tmp_path / f"chien-dich-{fmt}"
        result = invoke("campaign", "load", str(path), "--out", str(folder))
        assert result.exit_code == 0, (fmt, result.output)
        changed = load_campaign(folder)
        pl4 = changed.form("PL4")
        assert pl4.column("tinh_so_nguoi").type == "number", fmt
        new = pl4.columns[-1]
        assert (new.key, new.header, new.type, new.required, new.width) == (
            "so_doan_vien_nu_tham_gia_huong_loi", ("Số đoàn viên nữ tham gia, hưởng lợi",),
            "count", True, 12), fmt
        # everything else is as it was
        rest = dataclasses.replace(pl4, columns=pl4.columns[:-1])
        rest = dataclasses.replace(rest, columns=(
            dataclasses.replace(rest.columns[0], type="count", min=0), *rest.columns[1:]))
        assert dataclasses.replace(rest, source="") == dataclasses.replace(
            original.form("PL4"), source=""), fmt
        assert [f for f in changed.forms if f.id != "PL4"] == [
            dataclasses.replace(f, source=str(folder / f"{f.id.lower()}.yaml"))
            for f in original.forms if f.id != "PL4"], fmt

        # the templates show it: the new header cell, decimal validation on the changed column
        template = template_bytes(changed, None, None, generated_at=WHEN)
        wb = load_workbook(io.BytesIO(template))
        meta = parse_meta(list(wb[META_SHEET].iter_rows(values_only=True)))
        cells = {(c.form, c.row, c.column): c.cell for c in meta.cells}
        assert ("PL4", "2016", new.key) in cells, fmt
        ws = wb["PL4"]
        assert "Số đoàn viên nữ tham gia, hưởng lợi" in [
            c.value for row in ws.iter_rows() for c in row], fmt
        kinds = validation_types(template, "PL4")
        assert kinds["tinh_so_nguoi"] == "decimal", fmt  # was a whole number
        assert kinds[new.key] == "whole", fmt
    assert validation_types(template_bytes(original, None, None), "PL4")["tinh_so_nguoi"] == (
        "whole")


def validation_types(template: bytes, form: str) -> dict[str, str]:
    """Column key → Excel validation type of its 2016 cell on ``form``'s sheet."""
    wb = load_workbook(io.BytesIO(template))
    meta = parse_meta(list(wb[META_SHEET].iter_rows(values_only=True)))
    by_cell = {}
    for dv in wb[form].data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in wb[form].iter_rows(min_row=rng.min_row, max_row=rng.max_row,
                                          min_col=rng.min_col, max_col=rng.max_col):
                for c in row:
                    by_cell[c.coordinate] = dv.type
    return {c.column: by_cell[c.cell] for c in meta.cells if c.form == form and c.row == "2016"}
