"""Real spreadsheet program in the loop: LibreOffice fills, saves and renders our files.

Units fill templates in Excel, LibreOffice or WPS; what comes back must still be read
exactly, and everything the toolkit writes must print on A4. These tests drive a headless
LibreOffice (``tests/lo_driver.py``, one instance per module) and check the results with the
toolkit's own reader, openpyxl and poppler. Locally they skip when LibreOffice is missing;
under ``CI=true`` they fail instead (see ``tests/lo.py``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import io
import math
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lo import (  # noqa: F401  (libreoffice_required, lo_fixture: pytest fixtures)
    LibreOffice,
    contains_text,
    convert_to_pdf,
    libreoffice_required,
    lo_fixture,
    pdf_pages,
    pdf_text,
    require_poppler,
    sheet_pages,
)
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.read.ingest import ingest
from toolkit.report.outputs import write_outputs
from toolkit.spec.campaign import Campaign, Column
from toolkit.spec.load import list_builtin_campaigns, load_campaign
from toolkit.spec.meta import META_SHEET, Meta, parse_meta, template_layout
from toolkit.spec.models import ConsolidationResult, Submission
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

pytestmark = pytest.mark.libreoffice

UNITS = load_units(samples_dir() / "units.csv")
OFFICE = UNITS.get("TX")
UNIT = UNITS.get("TX01")
CAMPAIGN_IDS = list_builtin_campaigns()
TEXT_NUMBER = "0123"  # a document number a clerk types: must stay text, leading zero kept

Key = tuple[str, str, str]


# --------------------------------------------------------------------------- helpers


def read_meta(data: bytes | Path) -> Meta:
    src = io.BytesIO(data) if isinstance(data, bytes) else data
    book = load_workbook(src, read_only=True)
    try:
        return parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    finally:
        book.close()


def where(meta: Meta) -> dict[Key, tuple[str, str]]:
    return {(c.form, c.row, c.column): (c.sheet, c.cell) for c in meta.cells}


def vi_number(value: float) -> str:
    """What a clerk types on a Vietnamese-locale computer: no grouping, decimal comma."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value)).replace(".", ",")


def keystrokes(col: Column, value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return f"{value:%d/%m/%Y}"
    if col.is_numeric:
        return vi_number(value)
    return str(value)


def campaign_values(campaign: Campaign, seed: str) -> dict[Key, Any]:
    """Valid values for every input cell (list forms: two rows), and a text that looks like
    a number in the first text column of each form."""
    values = sample_values(campaign, random.Random(seed), list_rows=2)
    for form in campaign.forms:
        text_cols = [c for c in form.input_columns if c.type == "text"]
        if text_cols:
            first_row = form.row_keys()[0]
            values[(form.id, first_row, text_cols[0].key)] = TEXT_NUMBER
    return values


def typing_actions(campaign: Campaign, cells: dict[Key, tuple[str, str]],
                   values: dict[Key, Any]) -> list[dict[str, Any]]:
    actions = []
    for (form_id, row, col_key), value in sorted(values.items()):
        col = campaign.form(form_id).column(col_key)
        sheet, cell = cells[(form_id, row, col_key)]
        actions.append({"sheet": sheet, "cell": cell, "input": keystrokes(col, value),
                        "key": [form_id, row, col_key]})
    return actions


def expected_value(col: Column, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if col.is_numeric:
        return float(value)
    return value


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def read_back(result: ConsolidationResult, unit_code: str) -> dict[Key, Any]:
    """Non-blank typed values of ``unit_code`` from the frames consolidate returned."""
    out: dict[Key, Any] = {}
    for form in result.campaign.forms:
        frame = result.frames[form.id]
        for rec in frame[frame["unit_code"] == unit_code].to_dict("records"):
            for col in form.input_columns:
                if not blank(rec.get(col.key)):
                    out[(form.id, str(rec["row"]), col.key)] = rec[col.key]
    return out


def submission(result: ConsolidationResult, name: str) -> Submission:
    matches = [s for s in result.submissions if s.file == name]
    assert len(matches) == 1, [s.file for s in result.submissions]
    return matches[0]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- filling


@pytest.mark.parametrize("campaign_id", CAMPAIGN_IDS)
def test_filled_and_saved_by_libreoffice_is_read_exactly(lo: LibreOffice, tmp_path: Path,
                                                         campaign_id: str) -> None:
    """Every input cell of every form typed in LibreOffice (vi-VN keystrokes: decimal
    comma, dd/mm/yyyy, a text "0123" in a text cell, two list rows), saved as .xlsx and as
    .ods: consolidate identifies the unit and reads back exactly what was typed."""
    campaign = load_campaign(campaign_id)
    template = write(tmp_path / "template.xlsx", template_bytes(campaign, UNIT, OFFICE))
    cells = where(read_meta(template))
    values = campaign_values(campaign, f"lo-{campaign_id}")
    assert {k[0] for k in values} == {f.id for f in campaign.forms}
    saved = {fmt: tmp_path / f"inbox-{fmt}" / f"{UNIT.code} báo cáo.{fmt}"
             for fmt in ("xlsx", "ods")}
    res = lo.run({"open": str(template), "actions": typing_actions(campaign, cells, values),
                  "save": [{"path": str(p)} for p in saved.values()]})

    refused = [a for a in res["actions"] if a["status"] != "entered"]
    assert not refused, refused[:5]
    text_cells = [a for a in res["actions"] if a["stored"]["string"] == TEXT_NUMBER]
    assert text_cells and all(a["stored"]["type"] == "TEXT" for a in text_cells)

    expected = {k: expected_value(campaign.form(k[0]).column(k[2]), v)
                for k, v in values.items()}
    expected.update({(f.id, i.key, "chi_tieu"): i.default_target  # pre-filled, locked targets
                     for f in campaign.forms for i in f.indicators
                     if i.default_target is not None})
    for fmt, path in saved.items():
        result = consolidate(path.parent, campaign, UNITS, OFFICE)
        sub = submission(result, path.name)
        assert sub.unit_code == UNIT.code and sub.kind == "template", (fmt, sub.identity)
        assert sub.status == "accepted", (fmt, sub.status, sub.findings)
        assert [f for f in sub.findings if f.severity == "error"] == [], fmt
        got = read_back(result, UNIT.code)
        assert got == expected, (fmt, {k: (expected.get(k), got.get(k))
                                       for k in expected.keys() | got.keys()
                                       if expected.get(k) != got.get(k)})
        lists = [f for f in campaign.forms if f.kind == "list"]
        for form in lists:  # exactly the typed list rows, nothing from the 3rd row on
            assert {k[1] for k in got if k[0] == form.id} == {"1", "2"}, (fmt, form.id)


def test_validation_refuses_what_the_ui_refuses(lo: LibreOffice, tmp_path: Path) -> None:
    """The "Stop" validity rules of the template hold in LibreOffice: -5, "abc", 2,5 and
    "12 người" in a count, 130 in a percent, a type not in the list, a date before 1990,
    an overlong text and any locked cell are refused; LibreOffice's own validity engine
    (Detective ▸ Mark Invalid Data) agrees with every verdict. A value forced past the
    validation (as a paste would) is still caught by consolidate."""
    campaign = load_campaign("nq02-2020")
    template = write(tmp_path / "template.xlsx", template_bytes(campaign, UNIT, OFFICE))
    cells = where(read_meta(template))
    pl2 = template_layout(campaign.form("PL2"), UNIT)
    pl5 = template_layout(campaign.form("PL5"), UNIT)
    ratio = next(c for c in campaign.form("PL5").columns if not c.is_input)

    def at(form: str, row: str, col: str, **action: Any) -> dict[str, Any]:
        sheet, cell = cells[(form, row, col)]
        return {"sheet": sheet, "cell": cell, **action}

    count = ("PL2", "-", "bt_so_luong")
    refused = [
        at(*count, input="-5"),
        at(*count, input="abc"),
        at(*count, input="2,5"),
        at(*count, input="12 người"),
        at(*count, text="12"),  # a number pasted as text is not a number
        at("PL5", "-", "tap_hop_chi_tieu", input="130"),
        at("PL5", "-", "lam_nha_so_tien", input="-1"),
        at("PL1", "1", "loai_van_ban", input="Thông tư"),
        at("PL1", "1", "ngay_ban_hanh", input="01/01/1980"),
        at("PL1", "1", "trich_yeu", input="x" * 2001),
    ]
    locked = [
        {"sheet": "PL2", "cell": f"A{pl2.rows[0].row + 1}", "input": "Đoàn khác"},  # row label
        {"sheet": "PL2", "cell": "A1", "input": "x"},  # heading
        {"sheet": "PL5", "cell": pl5.cell("-", ratio.key), "number": 0.5},  # ratio formula
        {"sheet": "_meta", "cell": "B2", "input": "TX99"},  # identity
    ]
    accepted = [
        at(*count, input="12"),
        at("PL2", "-", "bt_thac_sy", input="3"),
        at("PL5", "-", "tap_hop_chi_tieu", input="85,5"),
        at("PL5", "-", "lam_nha_so_tien", input="12,5"),
        at("PL1", "1", "loai_van_ban", input="Kế hoạch"),
        at("PL1", "1", "so_hieu", input=TEXT_NUMBER),
        at("PL1", "1", "ngay_ban_hanh", input="15/01/2020"),
        at("PL1", "1", "trich_yeu", input="Triển khai Nghị quyết"),
    ]
    forced = at("PL4", "2016", "tinh_so_nguoi", input="-5", force=True)
    out = tmp_path / "inbox" / "TX01.xlsx"
    res = lo.run({"open": str(template), "actions": [*refused, *locked, *accepted, forced],
                  "save": [{"path": str(out)}]})
    acts = res["actions"]
    n1, n2, n3 = len(refused), len(refused) + len(locked), len(refused) + len(locked) + len(
        accepted)

    for a in acts[:n1]:
        assert (a["status"], a.get("reason")) == ("refused", "validation"), a
        assert a["message"].startswith("Số liệu không hợp lệ"), a  # the template's error
        assert a["lo_invalid"] is True, a  # LibreOffice's own engine says invalid too
    for a in acts[n1:n2]:
        assert (a["status"], a.get("reason")) == ("refused", "protected"), a
    for a in acts[n2:n3]:
        assert a["status"] == "entered" and a["lo_invalid"] is False, a
    assert acts[n3]["status"] == "entered" and acts[n3]["lo_invalid"] is True, acts[n3]
    assert {a["stored"]["type"] for a in acts[n2:n3] if a["cell"] == cells[count][1]} == {
        "VALUE"}

    book = load_workbook(out)
    assert book["PL2"][cells[count][1]].value == 12
    assert book["PL5"][cells[("PL5", "-", "tap_hop_chi_tieu")][1]].value == 85.5
    assert book["PL1"][cells[("PL1", "1", "so_hieu")][1]].value == TEXT_NUMBER
    assert book["PL1"][cells[("PL1", "1", "loai_van_ban")][1]].value == "Kế hoạch"
    assert book["PL2"][f"A{pl2.rows[0].row + 1}"].value == UNIT.name
    assert book[META_SHEET]["B2"].value == UNIT.code

    result = consolidate(out.parent, campaign, UNITS, OFFICE)
    sub = submission(result, out.name)
    errors = {(f.form, f.cell): f for f in sub.findings if f.severity == "error"}
    assert sub.status == "rejected"
    assert ("PL4", forced["cell"]) in errors, errors  # pasted past validation: still caught
    typed = {(a["sheet"], a["cell"]) for a in accepted}
    assert [f for k, f in errors.items() if k in typed] == []  # typed values are fine


# --------------------------------------------------------------------------- round trip


def _validations(ws: Any) -> dict[str, tuple[Any, ...]]:
    """A1 → (type, operator, error style, show error, formula1, formula2), normalised."""

    def num(f: Any) -> Any:
        if f is None:
            return None
        text = str(f).strip().lstrip("=")
        try:
            return float(text)
        except ValueError:
            return text

    out = {}
    for dv in ws.data_validations.dataValidation:
        op = dv.operator or "between"
        two = op in ("between", "notBetween") and dv.type not in ("list", "custom")
        key = (dv.type, op, dv.errorStyle or "stop", bool(dv.showErrorMessage),
               num(dv.formula1), num(dv.formula2) if two else None)
        for rng in dv.sqref.ranges:
            for row, col in rng.cells:
                out[ws.cell(row, col).coordinate] = key
    return out


def _formulas(ws: Any) -> dict[str, str]:
    return {c.coordinate: re.sub(r"[\s$]", "", str(c.value)).upper()
            for row in ws.iter_rows() for c in row if c.data_type == "f"}


def test_resaved_template_keeps_identity_map_validation_protection_formulas(
        lo: LibreOffice, tmp_path: Path) -> None:
    """A template merely opened and saved by LibreOffice (.xlsx) keeps the text custom
    properties, ``_meta`` (hidden; LibreOffice writes "very hidden" as "hidden") and its
    cell map, the validation of every input cell, sheet protection, unlocked inputs and the
    formulas; the .ods keeps the identity and map as the toolkit reads them."""
    campaign = load_campaign("nq02-2020")
    data = template_bytes(campaign, UNIT, OFFICE)
    template = write(tmp_path / "template.xlsx", data)
    xlsx, ods = tmp_path / "inbox-x" / "TX01.xlsx", tmp_path / "inbox-o" / "TX01.ods"
    res = lo.run({"open": str(template), "properties": True,
                  "save": [{"path": str(xlsx)}, {"path": str(ods)}]})
    meta = read_meta(data)
    assert {k: res["properties"].get(k) for k in meta.identity} == meta.identity

    before, after = load_workbook(io.BytesIO(data)), load_workbook(xlsx)
    props = {p.name: p.value for p in after.custom_doc_props.props}
    assert {k: props.get(k) for k in meta.identity} == meta.identity
    assert after[META_SHEET].sheet_state in ("hidden", "veryHidden")
    assert read_meta(xlsx) == meta
    assert after.sheetnames == before.sheetnames

    for form in campaign.forms:
        old, new = before[form.sheet], after[form.sheet]
        assert new.protection.sheet, form.id
        old_dv, new_dv = _validations(old), _validations(new)
        inputs = [c.cell for c in meta.cells if c.sheet == form.sheet]
        assert {c: new_dv.get(c) for c in inputs} == {c: old_dv[c] for c in inputs}, form.id
        assert all(new[c].protection.locked is False for c in inputs), form.id
        assert _formulas(new) == _formulas(old), form.id
        computed = form.kind == "fixed_rows" or any(not c.is_input for c in form.columns)
        assert bool(_formulas(old)) == computed, form.id  # totals and ratios are formulas

    for path in (xlsx, ods):
        found = ingest(path.parent, campaign)
        (sub,) = found.submissions
        assert sub.identity == meta.identity, path.suffix
        read = [*sub.cells, *sub.confirmations]  # the confirmation cells are set apart
        assert {(c.form, c.row, c.column, c.cell) for c in read} == {
            (c.form, c.row, c.column, c.cell) for c in meta.cells}, path.suffix
        assert not [f for f in sub.findings if f.severity == "error"], sub.findings


# --------------------------------------------------------------------------- outputs


SAMPLE_CAMPAIGN = "nq02-2020"  # the campaign of the sample run (summary, feedback)
TARGETS_CAMPAIGN = "giua-nhiem-ky-2017-2022"  # a campaign with a targets form (allocation)
TEMPLATE_KINDS = [f"template:{cid}" for cid in CAMPAIGN_IDS]
ALLOCATION_MISSING = importlib.util.find_spec("toolkit.write.allocation") is None
ALLOCATION_FUNCTIONS = ("allocation_bytes", "allocation_template_bytes",
                        "allocation_workbook_bytes")
ALLOCATION = pytest.param("allocation", marks=pytest.mark.skipif(
    ALLOCATION_MISSING, reason="toolkit/allocation.py does not exist (yet)"))
FEEDBACK_KINDS = ["feedback", "feedback:standalone"]  # annotated copy; list alone
KINDS = [*TEMPLATE_KINDS, "summary", *FEEDBACK_KINDS, ALLOCATION]


def _allocation_workbook(campaign: Campaign) -> bytes | None:
    """The allocation workbook, if toolkit.write.allocation offers one of the usual writers."""
    if ALLOCATION_MISSING:
        return None
    module = importlib.import_module("toolkit.write.allocation")
    for name in ALLOCATION_FUNCTIONS:
        func = getattr(module, name, None)
        if callable(func):
            return func(campaign, UNITS, OFFICE)
    return None


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every kind of workbook the toolkit writes: a unit's template of every built-in
    campaign, and the summary and feedback workbooks of one small consolidation run: the
    unit's own file annotated, and the standalone list written for a file that cannot be
    annotated (here a broken one)."""
    campaign = load_campaign(SAMPLE_CAMPAIGN)
    root = tmp_path_factory.mktemp("outputs")
    inbox = root / "inbox"
    children = UNITS.children(OFFICE.code)[:5]
    for i, unit in enumerate(children):
        values = sample_values(campaign, random.Random(f"lo-out-{unit.code}"))
        if i == 1:  # one unit gets a finding, hence a feedback workbook
            values[("PL2", "-", "bt_thac_sy")] = 99
        write(inbox / f"{unit.code}.xlsx", fill_workbook(
            template_bytes(campaign, unit, OFFICE), values,
            modified=dt.datetime(2021, 1, 15, 9, 0)))
    write(inbox / "báo cáo hỏng.xlsx", b"PK\x03\x04 not really a workbook")
    result = consolidate(inbox, campaign, UNITS, OFFICE,
                         now=dt.datetime(2021, 1, 21, 8, 0, tzinfo=dt.UTC))
    paths = write_outputs(result, result.frames, root / "out")
    annotated = [p for p in paths.feedback if p.name.startswith(children[1].code)]
    standalone = [p for p in paths.feedback if p.name.startswith("khong-ro")]
    assert annotated and standalone, paths.feedback
    files: dict[str, Path] = {}
    campaigns: dict[str, Campaign] = {}
    for cid in CAMPAIGN_IDS:
        kind = f"template:{cid}"
        campaigns[kind] = load_campaign(cid)
        files[kind] = write(root / "templates" / f"{cid}_TX01.xlsx",
                            template_bytes(campaigns[kind], UNIT, OFFICE))
    files["summary"] = paths.summary
    files["feedback"], files["feedback:standalone"] = annotated[0], standalone[0]
    for kind in ("summary", *FEEDBACK_KINDS):
        campaigns[kind] = campaign
    targets_campaign = load_campaign(TARGETS_CAMPAIGN)
    allocation = _allocation_workbook(targets_campaign)
    if allocation is not None:
        files["allocation"] = write(root / "allocation" / "allocation.xlsx", allocation)
        campaigns["allocation"] = targets_campaign
    return {"campaigns": campaigns, "result": result, "files": files, "root": root}


@pytest.fixture(scope="module")
def rendered(outputs: dict[str, Any], lo: LibreOffice) -> dict[str, dict[str, Any]]:
    """Each workbook converted to PDF by ``soffice --convert-to pdf`` (one run for all),
    with LibreOffice's pagination of every visible sheet."""
    require_poppler()
    files = outputs["files"]
    names = list(files)
    pdfs = convert_to_pdf([files[k] for k in names], outputs["root"] / "pdf")
    out = {}
    for kind, pdf in zip(names, pdfs, strict=True):
        layout = lo.run({"open": str(files[kind]), "print_layout": True})["print_layout"]
        out[kind] = {"pdf": pdf, "layout": layout, "pages": pdf_pages(pdf),
                     "sheet_pages": sheet_pages(layout)}
    return out


def _kind(rendered: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    if kind not in rendered:
        pytest.skip(f"no {kind} workbook in this run (toolkit.write.allocation has none of "
                    f"{', '.join(ALLOCATION_FUNCTIONS)}(campaign, units, office))")
    return rendered[kind]


A3_FORMS = {"PL5"}  # the one form too wide for 9 pt on A4 landscape (issue 18 item 2)


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_is_a4_and_pages_belong_to_sheets(rendered: dict[str, dict[str, Any]],
                                              outputs: dict[str, Any], kind: str) -> None:
    """The PDF converts without error; every page is A4 and every form sheet's pages are A4
    landscape (842 × 595 pt) — A3 landscape only for PL5, too wide to print at 9 pt on A4;
    the PDF has exactly the pages LibreOffice lays out per visible sheet, and no form spills
    into a second page horizontally."""
    r = _kind(rendered, kind)
    pages = r["pages"]
    a3 = {n for sheet, numbers in r["sheet_pages"].items() if sheet in A3_FORMS
          for n in numbers}
    assert pages and all(p.is_a4() or (p.number in a3 and p.is_a3()) for p in pages), [
        (p.width, p.height) for p in pages]
    assert sum(len(s["pages"]) for s in r["layout"]) == len(pages)
    forms = {f.sheet for f in outputs["campaigns"][kind].forms}
    layout = {s["sheet"]: s for s in r["layout"]}
    assert forms <= set(layout) or kind in ("allocation", "feedback:standalone"), sorted(layout)
    for sheet in forms & set(layout):
        assert layout[sheet]["across"] == 1, (sheet, layout[sheet])
        assert layout[sheet]["style"]["landscape"], sheet
        for n in r["sheet_pages"][sheet]:
            page = pages[n - 1]
            assert page.is_a4(landscape=True) or (
                sheet in A3_FORMS and page.is_a3() and page.landscape), (sheet, n, page)
        assert len(r["sheet_pages"][sheet]) <= 3, (sheet, r["sheet_pages"][sheet])


@pytest.mark.parametrize("kind", [
    *TEMPLATE_KINDS,
    "summary",
    *FEEDBACK_KINDS,
    ALLOCATION,
])
def test_every_printed_sheet_fits_one_page_wide(rendered: dict[str, dict[str, Any]],
                                                kind: str) -> None:
    """Not only the forms: every visible sheet (guide, status, findings, error list) prints
    one page wide."""
    r = _kind(rendered, kind)
    wide = {s["sheet"]: s["across"] for s in r["layout"] if s["across"] != 1}
    assert wide == {}


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_text_has_titles_with_diacritics_and_whole_header(
        rendered: dict[str, dict[str, Any]], outputs: dict[str, Any], kind: str) -> None:
    """pdftotext finds each form's Vietnamese title on the first page of its sheet, and that
    page carries the whole numbered header row (1)…(n): every column of the form is on it."""
    r = _kind(rendered, kind)
    campaign: Campaign = outputs["campaigns"][kind]
    result: ConsolidationResult = outputs["result"]
    summary_cols = {}
    if kind == "summary":
        from toolkit.report.summary import summary_layout

        summary_cols = {fs.form.id: summary_layout(fs).ncols for fs in result.forms}
    for form in campaign.forms:
        if form.sheet not in r["sheet_pages"]:
            assert kind in ("allocation", "feedback:standalone"), (kind, form.sheet)
            continue
        first = r["sheet_pages"][form.sheet][0]
        text = pdf_text(r["pdf"], first)
        assert contains_text(text, form.title), (form.id, text[:600])
        assert contains_text(text, form.number.upper()), (form.id, text[:300])
        ncols = summary_cols.get(form.id) or template_layout(form, UNIT).ncols
        numbers = {int(n) for n in re.findall(r"\((\d+)\)", text)}
        assert set(range(1, ncols + 1)) <= numbers, (form.id, ncols, sorted(numbers))
    whole = pdf_text(r["pdf"])
    if kind.startswith("template") or kind == "feedback":
        assert contains_text(whole, "HƯỚNG DẪN ĐIỀN BIỂU MẪU BÁO CÁO")
        assert contains_text(whole, campaign.document_number)
    if kind.startswith("feedback"):
        assert contains_text(whole, "PHẢN HỒI KIỂM TRA SỐ LIỆU")
        who = "báo cáo hỏng.xlsx" if kind == "feedback:standalone" else UNITS.children(
            OFFICE.code)[1].name
        assert contains_text(whole, who), whole[:600]
    if kind == "summary":
        assert contains_text(whole, OFFICE.name.upper())


def test_summary_survives_libreoffice_charts_and_all(lo: LibreOffice, outputs: dict[str, Any],
                                                     tmp_path: Path) -> None:
    """The summary's charts are still charts after LibreOffice opens and re-saves it, and
    the re-saved summary is still the office's submission for the level above: same
    identity (kind ``summary``), same figures read through its own map."""
    summary: Path = outputs["files"]["summary"]

    def charts(path: Path) -> list[str]:
        with zipfile.ZipFile(path) as z:
            return sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))

    before = charts(summary)
    assert before, "the summary has no chart to begin with"
    out = tmp_path / "resaved" / summary.name
    lo.run({"open": str(summary), "save": [{"path": str(out)}]})
    after = charts(out)
    assert len(after) == len(before), (before, after)
    with zipfile.ZipFile(out) as z:
        for name in after:
            xml = z.read(name)
            assert b"<c:ser>" in xml or b"<c:ser " in xml, name  # still has data series

    campaign = outputs["campaigns"]["summary"]
    original = write(tmp_path / "original" / summary.name, summary.read_bytes())
    read = {}
    for label, path in (("original", original), ("libreoffice", out)):
        (sub,) = ingest(path.parent, campaign).submissions
        assert sub.kind == "summary" and sub.unit_code == OFFICE.code, (label, sub.identity)
        read[label] = {(c.form, c.row, c.column, c.cell): c.raw for c in sub.cells}
    assert any(not blank(v) for v in read["original"].values())
    assert read["libreoffice"] == read["original"]


def test_driver_leaves_no_soffice_behind(tmp_path: Path) -> None:
    """A LibreOffice started and stopped by the client leaves no process behind."""
    from lo_process import group_alive

    office = LibreOffice().start()
    pgid = office.office_pgid
    assert pgid and group_alive(pgid)
    res = office.run({"cmd": "job", "open": str(write(
        tmp_path / "t.xlsx", template_bytes(load_campaign("nq02-2020"), UNIT, OFFICE))),
        "properties": True})
    assert res["properties"]["unit_code"] == UNIT.code
    driver = office.proc
    office.stop()
    assert driver is not None and driver.poll() is not None
    assert not group_alive(pgid)
