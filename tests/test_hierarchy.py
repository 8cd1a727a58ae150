"""The hierarchy as data (issue 17 item 4): a province whose communes report straight to it
(no district level), the centre rolling up provinces, per-level deadlines, and a merged
unit whose file is counted for its successor.

Every expected figure is computed here from the values this test put into the workbooks.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from toolkit.mail.compose import sender_address
from toolkit.mail.send import plan_reminders
from toolkit.mail.settings import MailError
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.report.word import render
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.units import UnitRegistry, load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import make_templates, template_bytes

DEADLINES = {"co_so": dt.date(2021, 1, 20), "huyen": dt.date(2021, 1, 25),
             "tinh": dt.date(2021, 2, 5)}
CAMPAIGN = dataclasses.replace(load_campaign("nq02-2020"), deadlines=DEADLINES,
                               return_to="Văn phòng Tỉnh đoàn")
NOW = dt.datetime(2021, 2, 1, 8, 0, tzinfo=dt.UTC)

# After the 2025 reorganisation: Thanh Hóa's communes report to the province; Nghệ An keeps a
# body at district level (Đoàn Khối) beside its communes. Levels as clerks type them.
UNITS_CSV = """\
Mã,Tên đơn vị,Cấp,Đơn vị cấp trên,Email,Sáp nhập vào,Ngày sáp nhập
TW,Trung ương Đoàn,TW,,tw@doan.vn,,
TH,Tỉnh đoàn Thanh Hóa,Tỉnh,TW,th@doan.vn,,
TH01,Đoàn xã Xuân Hòa,Xã,TH,th01@doan.vn,,
TH02,Đoàn phường Hạc Thành,Phường,TH,th02@doan.vn,,
TH03,Đoàn xã Thọ Xuân,co_so,TH,th03@doan.vn,,
TH04,Đoàn xã Xuân Lập,Cơ sở,TH,th04@doan.vn,,
TH05,Đoàn xã Xuân Minh,Xã,TH,th05@doan.vn,Đoàn xã Xuân Lập,01/07/2025
TH06,Đoàn thị trấn Lam Sơn,Thị trấn,TH,th06@doan.vn,,
NA,Tỉnh đoàn Nghệ An,cấp tỉnh,TW,na@doan.vn,,
NA01,Đoàn xã Nghi Lộc,Xã,NA,na01@doan.vn,,
NA02,Đoàn phường Vinh Phú,Phường,NA,na02@doan.vn,,
NA03,Đoàn xã Diễn Châu,Cơ sở,NA,na03@doan.vn,,
NAK,Đoàn Khối các cơ quan tỉnh,Đoàn Khối,NA,nak@doan.vn,,
"""
# (unit, day it saved its file in January 2021); TH04 sends nothing, TH05 (merged into TH04)
# still sends its old template; TH06 sends nothing
SENT = {"TH01": 15, "TH02": 22, "TH03": 19, "TH05": 18,
        "NA01": 12, "NA02": 19, "NA03": 23, "NAK": 23}
# late by the deadline of the unit's own level (co_so 20/01, huyen 25/01)
LATE = {"TH01": False, "TH02": True, "TH03": False, "TH04": False,
        "NA01": False, "NA02": False, "NA03": True, "NAK": False}


def _units(tmp_path: Path) -> UnitRegistry:
    path = tmp_path / "don-vi.csv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    return load_units(path)


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _guide_deadline(data: bytes) -> str:
    """The «Hạn nộp» line of a template's guide sheet."""
    book = load_workbook(io.BytesIO(data))
    for row in book["Hướng dẫn"].iter_rows(values_only=True):
        cells = [c for c in row if c not in (None, "")]
        if cells and cells[0] == "Hạn nộp":
            return str(cells[1])
    raise AssertionError("no «Hạn nộp» line in the guide")


def _sums(data: dict[str, dict]) -> dict[tuple[str, str, str], float]:
    """Sums over units of every summed column of the forms that are not lists."""
    sums: dict[tuple[str, str, str], float] = defaultdict(float)
    for values in data.values():
        for form in CAMPAIGN.forms:
            if form.kind == "list":
                continue
            for col in form.input_columns:
                if col.aggregate != "sum":
                    continue
                for row in form.row_keys():
                    v = values.get((form.id, row, col.key))
                    if v is not None:
                        sums[(form.id, row, col.key)] += float(v)
    return sums


def _office_cells(summary: Path) -> dict[tuple[str, str, str], Any]:
    book = load_workbook(summary, data_only=True)
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    return {(c.form, c.row, c.column): book[c.sheet][c.cell].value for c in meta.cells}


def _fill(templates: dict[str, bytes], inbox: Path) -> dict[str, dict]:
    inbox.mkdir(parents=True, exist_ok=True)
    data: dict[str, dict] = {}
    for code, template in templates.items():
        values = sample_values(CAMPAIGN, random.Random(f"hier-{code}"))
        book = fill_workbook(template, values,
                             modified=dt.datetime(2021, 1, SENT[code], 2, 0))  # 9:00 in VN
        (inbox / f"{code}.xlsx").write_bytes(book)
        data[code] = values
    return data


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Templates made for each province's children, filled, consolidated per province, the
    two summaries put into the centre's inbox, consolidated there."""
    root = tmp_path_factory.mktemp("hier")
    units = _units(root)
    out: dict[str, Any] = {"units": units, "root": root, "data": {}}
    tw_inbox = root / "TW" / "inbox"
    tw_inbox.mkdir(parents=True)
    for code in ("TH", "NA"):
        office = units.get(code)
        made = make_templates(CAMPAIGN, units, office, root / code / "templates",
                              generated_at=NOW)
        out[f"{code}_templates"] = made
        by_code = {p.name: p.read_bytes() for p in made.files}
        templates = {c: next(v for k, v in by_code.items() if f"_{c}_" in k)
                     for c in SENT if c.startswith(code) and c != "TH05"}
        # the merged commune fills the template it was sent before the merger
        if code == "TH":
            templates["TH05"] = template_bytes(CAMPAIGN, units.get("TH05"), office,
                                               generated_at=NOW)
        data = _fill(templates, root / code / "inbox")
        out["data"][code] = data
        result = consolidate(root / code / "inbox", CAMPAIGN, units, office, now=NOW)
        paths = write_outputs(result, result.frames, root / code / "out")
        out[code] = (result, paths)
        (tw_inbox / paths.summary.name).write_bytes(paths.summary.read_bytes())
    result = consolidate(tw_inbox, CAMPAIGN, units, units.get("TW"), now=NOW)
    out["TW"] = (result, write_outputs(result, result.frames, root / "TW" / "out"))
    return out


# ------------------------------------------------------------------ templates, deadlines


def test_templates_go_to_every_child_but_the_merged_one(run: dict[str, Any]) -> None:
    names = {p.name for p in run["TH_templates"].files}
    assert len(names) == 5
    assert {n.split("_")[1] for n in names} == {"TH01", "TH02", "TH03", "TH04", "TH06"}
    for path in run["TH_templates"].files:  # every commune: the commune deadline
        assert _guide_deadline(path.read_bytes()) == "Chậm nhất ngày 20/01/2021 (cấp cơ sở)"


def test_blank_template_shows_the_deadlines_of_the_childrens_levels(run: dict[str, Any]) -> None:
    th_blank = run["TH_templates"].blank.read_bytes()
    assert _guide_deadline(th_blank) == "Chậm nhất ngày 20/01/2021 (cấp cơ sở)"
    na_blank = run["NA_templates"].blank.read_bytes()  # Đoàn Khối (huyện) and communes
    assert _guide_deadline(na_blank) == ("Chậm nhất ngày — cấp huyện: 25/01/2021; "
                                         "cấp cơ sở: 20/01/2021")
    nak = next(p for p in run["NA_templates"].files if "_NAK_" in p.name)
    assert _guide_deadline(nak.read_bytes()) == "Chậm nhất ngày 25/01/2021 (cấp huyện)"


def test_lateness_by_each_units_own_level(run: dict[str, Any]) -> None:
    for code in ("TH", "NA"):
        rows = {r["unit_code"]: r for r in _csv(run[code][1].submissions_csv)
                if r["status"] == "accepted"}
        for unit, late in LATE.items():
            if unit.startswith(code):
                assert rows[unit]["late"] == ("yes" if late else "no"), (unit, rows[unit])


# ------------------------------------------------------------------ province, no district


def test_province_without_districts_sums_its_communes(run: dict[str, Any]) -> None:
    data = run["data"]["TH"]
    counted = {("TH04" if c == "TH05" else c): v for c, v in data.items()}
    result, paths = run["TH"]
    assert {u.code for u in result.expected} == {"TH01", "TH02", "TH03", "TH04", "TH06"}
    statuses = {r["unit_code"]: r["status"] for r in _csv(paths.submissions_csv)}
    assert statuses == {"TH01": "accepted", "TH02": "accepted", "TH03": "accepted",
                        "TH04": "accepted", "TH06": "missing"}
    actual = _office_cells(paths.summary)
    expected = _sums(counted)
    assert expected
    for key, value in expected.items():
        assert math.isclose(actual[key], value, abs_tol=1e-9), (key, actual[key], value)


def test_merged_units_file_counts_for_its_successor(run: dict[str, Any]) -> None:
    _result, paths = run["TH"]
    th05 = run["data"]["TH"]["TH05"]
    values = {(r["form"], r["row"], r["column"]): r for r in _csv(paths.values_csv)
              if r["unit_code"] == "TH04"}
    assert not any(r["unit_code"] == "TH05" for r in _csv(paths.values_csv))
    for (form, row, col), v in th05.items():
        got = values[(form, row, col)]
        assert got["unit_name"] == "Đoàn xã Xuân Lập"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert float(got["value"]) == pytest.approx(float(v))
    sub = next(r for r in _csv(paths.submissions_csv) if r["file"] == "TH05.xlsx")
    assert (sub["unit_code"], sub["unit_name"], sub["status"]) == (
        "TH04", "Đoàn xã Xuân Lập", "accepted")
    merged = [f for f in _csv(paths.findings_csv) if f["code"] == "unit_merged"]
    assert len(merged) == 1
    assert merged[0]["unit_code"] == "TH04" and merged[0]["severity"] == "warning"
    assert merged[0]["message"] == (
        "TH05.xlsx — tệp của Đoàn xã Xuân Minh (TH05, đã sáp nhập vào Đoàn xã Xuân Lập từ "
        "01/07/2025): tính cho Đoàn xã Xuân Lập (TH04)")


def test_successors_own_newer_file_wins(tmp_path: Path) -> None:
    units = _units(tmp_path)
    office = units.get("TH")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    old = sample_values(CAMPAIGN, random.Random("old"))
    new = sample_values(CAMPAIGN, random.Random("new"))
    (inbox / "cu.xlsx").write_bytes(fill_workbook(
        template_bytes(CAMPAIGN, units.get("TH05"), office), old,
        modified=dt.datetime(2021, 1, 10, 2, 0)))
    (inbox / "moi.xlsx").write_bytes(fill_workbook(
        template_bytes(CAMPAIGN, units.get("TH04"), office), new,
        modified=dt.datetime(2021, 1, 12, 2, 0)))
    result = consolidate(inbox, CAMPAIGN, units, office, now=NOW)
    by_file = {s.file: s for s in result.submissions}
    assert by_file["moi.xlsx"].status == "accepted"
    assert by_file["cu.xlsx"].status == "superseded"
    assert by_file["cu.xlsx"].unit_code == "TH04"
    assert {f.code for f in by_file["cu.xlsx"].findings} >= {"unit_merged", "superseded"}


def test_merged_units_file_without_meta_is_recognised_by_its_name(tmp_path: Path) -> None:
    """The file lost ``_meta`` and its properties: the merged commune is recognised by its
    name under its province's, then counted for its successor."""
    units = _units(tmp_path)
    office = units.get("TH")
    values = sample_values(CAMPAIGN, random.Random("stripped"))
    book = load_workbook(io.BytesIO(fill_workbook(
        template_bytes(CAMPAIGN, units.get("TH05"), office), values,
        modified=dt.datetime(2021, 1, 12, 2, 0))))
    del book[META_SHEET]
    book.custom_doc_props.props.clear()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    book.save(inbox / "bao cao.xlsx")
    result = consolidate(inbox, CAMPAIGN, units, office, now=NOW)
    (sub,) = result.submissions
    assert (sub.unit_code, sub.status) == ("TH04", "accepted")
    assert {"identity_from_content", "unit_merged"} <= {f.code for f in sub.findings}
    frame = result.frames["PL2"]
    assert set(frame["unit_code"]) == {"TH04"}
    for col in CAMPAIGN.form("PL2").input_columns:
        v = values.get(("PL2", "-", col.key))
        if isinstance(v, (int, float)):
            assert float(frame[col.key].iloc[0]) == pytest.approx(float(v))


def test_reminders_skip_the_merged_unit(run: dict[str, Any]) -> None:
    units = run["units"]
    office = units.get("TH")
    plan = plan_reminders(CAMPAIGN, units, office, run["root"] / "TH" / "out",
                          sender_address(office.name, "th@doan.vn"),
                          today=dt.date(2021, 1, 21))
    assert [o.unit.code for o in plan.outgoing] == ["TH06"]
    subject = str(plan.outgoing[0].message["Subject"])
    assert "hạn 20/01/2021" in subject
    with pytest.raises(MailError, match=r"TH05 \(Đoàn xã Xuân Minh\) đã sáp nhập vào Đoàn "
                                        r"xã Xuân Lập: không gửi thư riêng"):
        plan_reminders(CAMPAIGN, units, office, run["root"] / "TH" / "out",
                       sender_address(office.name, "th@doan.vn"),
                       today=dt.date(2021, 1, 21), only=["TH05"])


def test_word_report_of_a_province_without_districts(run: dict[str, Any]) -> None:
    result, _paths = run["TH"]
    doc = Document(io.BytesIO(render(result)))
    text = "\n".join(p.text for p in doc.paragraphs)
    # 4 of the 5 communes reported (TH05's file counted for TH04)
    assert "4/5 cơ sở đã báo cáo" in text
    assert "BC/TĐTN" in text or any("BC/TĐTN" in c.text for t in doc.tables
                                    for r in t.rows for c in r.cells)


# ------------------------------------------------------------------ centre → province → commune


def test_centre_rolls_up_province_summaries(run: dict[str, Any]) -> None:
    result, paths = run["TW"]
    assert {u.code for u in result.expected} == {"TH", "NA"}
    assert {s.unit_code: s.status for s in result.submissions} == {"TH": "accepted",
                                                                   "NA": "accepted"}
    everyone = {f"{p}-{c}": v for p in ("TH", "NA") for c, v in run["data"][p].items()}
    expected = _sums(everyone)
    actual = _office_cells(paths.summary)
    for key, value in expected.items():
        assert math.isclose(actual[key], value, abs_tol=1e-9), (key, actual[key], value)
    rows = {r["unit_code"]: r for r in _csv(paths.submissions_csv)}
    # the summaries were made on 01/02: on time for the province deadline (05/02)
    assert (rows["TH"]["late"], rows["NA"]["late"]) == ("no", "no")
    # each province's own totals, under its code
    values = _csv(paths.values_csv)
    th = _sums(run["data"]["TH"])
    for r in values:
        key = (r["form"], r["row"], r["column"])
        if r["unit_code"] == "TH" and key in th:
            assert float(r["value"]) == pytest.approx(th[key])


# ------------------------------------------------------------------ the units page


def test_units_page_shows_levels_and_the_merged_unit(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from toolkit.web.app import create_app
    from toolkit.workspace import init_workspace

    units = tmp_path / "don-vi.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    ws = init_workspace(tmp_path / "ws", units=units, office="TH")
    app = create_app(ws.root)

    async def local(scope: Any, receive: Any, send: Any) -> None:  # a peer on this machine
        if scope["type"] == "http":
            scope = dict(scope, client=("127.0.0.1", 40000))
        await app(scope, receive, send)

    client = TestClient(local, base_url="http://127.0.0.1:8000")
    page = client.get("/don-vi").text
    for name in ("Trung ương Đoàn", "Đoàn xã Xuân Minh", "Đoàn Khối các cơ quan tỉnh"):
        assert name in page
    assert "đã sáp nhập vào Đoàn xã Xuân Lập từ 01/07/2025" in page
    for label in ("cấp trung ương", "cấp huyện", "cấp cơ sở"):
        assert label in page
