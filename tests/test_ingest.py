"""ingest() and select() on real workbook files written into a temporary inbox."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from builders import Formula, cell_of, clean_values, identity, workbook_bytes, write_workbook

import toolkit.read.book as book_module
import toolkit.read.reading as reading_module
from toolkit._infra.paths import samples_dir
from toolkit.check.validate import validate
from toolkit.read import limits
from toolkit.read.ingest import ingest
from toolkit.read.selection import select
from toolkit.spec.layout import form_layout
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import CellRef, cell_map
from toolkit.spec.units import load_units

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
TX = UNITS.get("TX")


def only(result):
    assert len(result.submissions) == 1, result
    return result.submissions[0]


def codes(sub):
    return [f.code for f in sub.findings]


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file's hash, size and mtime (ns), to prove the inbox was not touched."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size,
                              st.st_mtime_ns)
    return out


# --------------------------------------------------------------------------- identified files


def test_identified_file_is_read_exactly_through_its_map(tmp_path):
    values = clean_values()
    values["PL5"]["-"]["tap_hop_so_nguoi"] = "1.234"  # text stays text until validation
    write_workbook(tmp_path / "TX01.xlsx", CAMPAIGN, values=values)
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert sub.status == "" and sub.findings == []
    assert sub.identity == identity(CAMPAIGN)
    assert sub.unit_code == "TX01" and sub.kind == "template"
    layouts = [form_layout(f) for f in CAMPAIGN.forms]
    assert [(c.form, c.row, c.column, c.cell) for c in sub.cells] == [
        (r.form, r.row, r.column, r.cell) for r in cell_map(layouts)]
    got = {(c.form, c.row, c.column): c.raw for c in sub.cells}
    for form_id, rows in values.items():
        for row_key, cols in rows.items():
            for col_key, value in cols.items():
                raw = got.pop((form_id, row_key, col_key))
                if isinstance(value, (int, float)):
                    assert raw == float(value)
                else:
                    assert raw == value
    assert set(got.values()) == {None}, "every other mapped cell is blank"
    assert sub.sha256 == hashlib.sha256((tmp_path / "TX01.xlsx").read_bytes()).hexdigest()
    assert sub.size == (tmp_path / "TX01.xlsx").stat().st_size
    assert sub.modified_at == dt.datetime(2021, 1, 15, 9, 0, tzinfo=dt.UTC)
    assert sub.received_at is not None and sub.received_at.tzinfo is not None
    assert "_meta" in sub.sheet_names


def test_read_then_validated_values_reach_the_frames(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, values=clean_values())
    result = ingest(tmp_path, CAMPAIGN)
    select(result.submissions, UNITS, TX, CAMPAIGN)
    frames = validate(CAMPAIGN, result.submissions)
    assert result.submissions[0].status == "accepted"
    assert frames["PL2"].loc[0, "bch_so_luong"] == 15.0
    assert frames["PL1"].loc[0, "ngay_ban_hanh"] == dt.date(2016, 3, 1)


def test_nfd_names_subfolders_and_order(tmp_path):
    nfd = unicodedata.normalize("NFD", "Xuân Hồng.xlsx")
    write_workbook(tmp_path / "lần-2" / nfd, CAMPAIGN, unit_code="TX04")
    write_workbook(tmp_path / "b.xlsx", CAMPAIGN, unit_code="TX02")
    write_workbook(tmp_path / "a" / "c.xlsx", CAMPAIGN, unit_code="TX03")
    calls = []
    result = ingest(tmp_path, CAMPAIGN, progress=calls.append)
    files = [s.file for s in result.submissions]
    assert files == ["a/c.xlsx", "b.xlsx", unicodedata.normalize("NFC", "lần-2/Xuân Hồng.xlsx")]
    assert all(s.path.exists() for s in result.submissions)
    assert calls == [1, 1, 1]


def test_received_time_comes_from_the_manifest_when_listed(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN)
    write_workbook(tmp_path / "b.xlsx", CAMPAIGN, unit_code="TX02")
    os.utime(tmp_path / "b.xlsx", (1_600_000_000, 1_600_000_000))
    (tmp_path / "manifest.csv").write_text(
        "file,sender,date,message_id,subject\na.xlsx,x@y,2021-01-19T10:30:00+07:00,<1>,S\n",
        encoding="utf-8-sig")
    result = ingest(tmp_path, CAMPAIGN)
    a, b = result.submissions
    assert a.received_at == dt.datetime(2021, 1, 19, 3, 30, tzinfo=dt.UTC)
    assert a.received_source == "mail"
    # not listed: the unit's own save time, never the file's time on the clerk's disk
    assert b.received_at == b.modified_at and b.received_source == "saved"
    assert b.received_at != dt.datetime.fromtimestamp(1_600_000_000, dt.UTC)
    assert result.skipped == []


def test_summary_files_are_read_like_templates(tmp_path):
    write_workbook(tmp_path / "tong hop.xlsx", CAMPAIGN, unit_code="TX", kind="summary",
                   unit_name="Huyện đoàn Thọ Xuân", values={"PL2": {"-": {"bt_so_luong": 40}}})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert sub.kind == "summary" and sub.status == ""
    assert {(c.column, c.raw) for c in sub.cells if c.form == "PL2" and c.raw} == {
        ("bt_so_luong", 40.0)}


def test_older_spec_is_read_through_its_own_map(tmp_path):
    # an older layout: PL2 values two rows lower, one column that no longer exists
    refs = []
    for ref in cell_map([form_layout(f) for f in CAMPAIGN.forms]):
        if ref.form == "PL2":
            col = ref.cell.rstrip("0123456789")
            row = int(ref.cell[len(col):])
            ref = CellRef(ref.form, ref.sheet, ref.row, ref.column, f"{col}{row + 2}")
        refs.append(ref)
    refs.append(CellRef("PL2", "PL2", "-", "da_bo", "Z1"))
    moved = cell_of(CAMPAIGN, "PL2", "-", "bt_so_luong")
    lower = f"{moved[0]}{int(moved[1:]) + 2}"
    write_workbook(tmp_path / "old.xlsx", CAMPAIGN, refs=refs, ident={"spec_sha256": "old"},
                   cells={"PL2": {lower: 7, moved: 999}})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["spec_changed"]
    assert sub.findings[0].severity == "warning"
    (cell,) = [c for c in sub.cells if c.form == "PL2" and c.column == "bt_so_luong"]
    assert (cell.cell, cell.raw) == (lower, 7.0)


# --------------------------------------------------------------------------- ignored, skipped


def test_lock_hidden_and_other_files_are_skipped_with_a_reason(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN)
    (tmp_path / "~$a.xlsx").write_bytes(b"\x00" * 162)
    (tmp_path / ".~lock.a.xlsx#").write_text("x,y;")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.xlsx").write_bytes(b"")
    (tmp_path / "ghi chu.txt").write_text("xin chào")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4")
    result = ingest(tmp_path, CAMPAIGN)
    assert [s.file for s in result.submissions] == ["a.xlsx"]
    skipped = dict(result.skipped)
    assert set(skipped) == {"~$a.xlsx", ".~lock.a.xlsx#", ".DS_Store", ".git", "ghi chu.txt",
                            "scan.pdf"}
    assert all(reason for reason in skipped.values())


def test_other_campaign_is_skipped_not_a_submission(tmp_path):
    write_workbook(tmp_path / "khac.xlsx", CAMPAIGN, ident={"campaign": "nq05-2022"})
    result = ingest(tmp_path, CAMPAIGN)
    assert result.submissions == []
    ((file, reason),) = result.skipped
    assert file == "khac.xlsx" and "nq05-2022" in reason


# --------------------------------------------------------------------------- broken files


@pytest.mark.parametrize(("name", "data", "code"), [
    ("empty.xlsx", b"", "not_a_workbook"),
    ("text.xlsx", "Báo cáo: 12 người\n".encode(), "not_a_workbook"),
    ("page.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>",
     "not_a_workbook"),
    ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024, "file_encrypted"),
    ("other.xlsx", b"PK\x05\x06" + b"\x00" * 18, "not_a_workbook"),
])
def test_broken_files_become_findings(tmp_path, name, data, code):
    (tmp_path / name).write_bytes(data)
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == [code]
    assert sub.status == "unidentified" and sub.reason
    assert sub.findings[0].severity == "error" and sub.findings[0].file == name


def test_truncated_file_is_unreadable_and_the_run_goes_on(tmp_path):
    data = workbook_bytes(CAMPAIGN)
    (tmp_path / "a cut.xlsx").write_bytes(data[: len(data) // 2])
    write_workbook(tmp_path / "b good.xlsx", CAMPAIGN)
    cut, good = ingest(tmp_path, CAMPAIGN).submissions
    assert codes(cut) == ["file_unreadable"] and cut.status == "unidentified"
    assert good.status == "" and good.cells


def test_a_reader_crash_is_caught_per_file(tmp_path, monkeypatch):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN)
    monkeypatch.setattr(reading_module, "_read_cells", lambda *a, **k: 1 / 0)
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["file_unreadable"]


def test_far_away_cell_is_refused_before_loading(tmp_path):
    write_workbook(tmp_path / "bomb.xlsx", CAMPAIGN, cells={"PL2": {"XFD1048576": 1}})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["too_large"]
    assert sub.status == "rejected" and sub.cells == []


def test_far_away_cell_behind_a_tab_is_refused_before_loading(tmp_path):
    """``<c\tr="XFD1048576">`` is well-formed XML; unnoticed, calamine would ask for
    512 GB and abort the process reading it."""
    import io
    import zipfile

    data = workbook_bytes(CAMPAIGN, cells={"PL2": {"XFD1048576": 1}})
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            dst.writestr(info, part.replace(b'<c r="XFD1048576"', b'<c\tr="XFD1048576"')
                         .replace(b'<row r="1048576"', b'<row\nr="1048576"'))
    assert b"\tr=" in zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet2.xml")
    (tmp_path / "tab.xlsx").write_bytes(out.getvalue())
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["too_large"] and "XFD1048576" in sub.findings[0].message


def test_a_member_whose_checksum_is_wrong_is_not_read(tmp_path):
    """The zip bomb check keeps small members it inflated, but only when their CRC-32
    matches: a damaged member still makes the file unreadable, as zipfile would."""
    import struct
    import zipfile

    data = bytearray(workbook_bytes(CAMPAIGN, values=clean_values()))
    # a part only this toolkit reads (calamine checks the sheets' checksums itself)
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("docProps/custom.xml")
    crc = struct.pack("<L", info.CRC)
    bad = struct.pack("<L", info.CRC ^ 0xFFFFFFFF)
    assert data.count(crc) == 2  # local header and central directory
    (tmp_path / "crc.xlsx").write_bytes(bytes(data).replace(crc, bad))
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["file_unreadable"] and sub.cells == []


def test_size_limits(tmp_path, monkeypatch):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    assert codes(only(ingest(tmp_path, CAMPAIGN))) == ["too_large"]
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 10**9)
    monkeypatch.setattr(limits, "MAX_UNZIPPED_BYTES", 1000)
    assert codes(only(ingest(tmp_path, CAMPAIGN))) == ["too_large"]


def test_inbox_is_never_modified(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, values=clean_values())
    write_workbook(tmp_path / "sub" / "b.xlsx", CAMPAIGN, unit_code="TX02")
    (tmp_path / "c.xlsx").write_bytes(b"")
    (tmp_path / "~$a.xlsx").write_bytes(b"\x00" * 162)
    (tmp_path / "manifest.csv").write_text("file,date\na.xlsx,2021-01-19T10:30:00+07:00\n")
    for i, path in enumerate(sorted(tmp_path.rglob("*.xlsx"))):
        os.utime(path, (1_600_000_000 + i, 1_600_000_000 + i))
    before = snapshot(tmp_path)
    result = ingest(tmp_path, CAMPAIGN)
    select(result.submissions, UNITS, TX, CAMPAIGN)
    validate(CAMPAIGN, result.submissions)
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["a.xlsx", "sub", "b.xlsx", "c.xlsx", "~$a.xlsx", "manifest.csv"])


# --------------------------------------------------------------------------- identity, map


def test_meta_deleted_and_no_column_numbers_to_check_against_reads_nothing(tmp_path):
    """Without its own map a file is read through the template's only where the sheet's
    ``(1) (2) …`` row confirms the table (this builder writes none). Files with them, from
    real templates: test_recognition.py."""
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, meta=False, values=clean_values())
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert sub.unit_code == "TX01"
    assert codes(sub) == ["meta_rebuilt"] + ["layout_damaged"] * len(CAMPAIGN.forms)
    assert sub.cells == []


def test_properties_lost_but_meta_present_is_enough(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, properties=False, values=clean_values())
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert sub.status == "" and sub.unit_code == "TX01" and sub.cells


def test_neither_meta_nor_properties_is_unidentified(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, meta=False, properties=False)
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert sub.status == "unidentified" and codes(sub) == ["no_identity"]


def test_unknown_kind_is_unidentified(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, ident={"kind": "ban-nhap"})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert sub.status == "unidentified" and codes(sub) == ["unknown_kind"]


def test_missing_form_sheet_is_an_error_but_the_rest_is_read(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, drop_sheets=["PL6"], values=clean_values())
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["sheet_missing"]
    assert sub.findings[0].form == "PL6"
    assert {c.form for c in sub.cells} == {"PL1", "PL2", "PL3", "PL4", "PL5"}
    validate(CAMPAIGN, [sub])
    assert sub.status == "rejected"


def test_bad_map_cells_are_findings(tmp_path):
    refs = [CellRef("PL2", "PL2", "-", "bt_so_luong", "ZZZZ1"),
            CellRef("PL2", "PL2", "-", "bt_thac_sy", "B0"),
            CellRef("PL2", "PL2", "-", "bt_dai_hoc", "hello"),
            CellRef("PL2", "PL2", "-", "bt_cd_tc", "D14")]
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, refs=refs, cells={"PL2": {"D14": 4}})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["cell_outside_sheet"] * 3
    assert [(c.column, c.raw) for c in sub.cells] == [("bt_cd_tc", 4.0)]


def test_formula_in_an_input_cell_is_a_warning_and_its_cached_value_is_used(tmp_path):
    cell = cell_of(CAMPAIGN, "PL2", "-", "bt_so_luong")
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN,
                   values={"PL2": {"-": {"bt_so_luong": Formula("=1+2", 3)}}})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert [(f.code, f.form, f.cell, f.severity) for f in sub.findings] == [
        ("formula_in_input", "PL2", cell, "warning")]
    (value,) = [c.raw for c in sub.cells if c.cell == cell and c.form == "PL2"]
    assert value == 3.0


def test_fixed_row_label_changed_is_an_error(tmp_path):
    layout = form_layout(CAMPAIGN.form("PL4"))
    label_2016 = f"A{layout.row('2016').row + 1}"
    label_2017 = f"A{layout.row('2017').row + 1}"
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN,
                   cells={"PL4": {label_2016: "2017", label_2017: 2016}})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert [(f.code, f.form, f.cell, f.row) for f in sub.findings] == [
        ("row_key_changed", "PL4", label_2016, "2016"),
        ("row_key_changed", "PL4", label_2017, "2017")]


def test_fixed_row_label_typed_as_a_number_is_fine(tmp_path):
    layout = form_layout(CAMPAIGN.form("PL6"))
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN,
                   cells={"PL6": {f"A{layout.row('2018').row + 1}": 2018}})
    assert only(ingest(tmp_path, CAMPAIGN)).findings == []


# --------------------------------------------------------------------------- select


def test_select_keeps_the_newest_and_counts_identical_copies_once(tmp_path):
    old = dt.datetime(2021, 1, 16, 9, 0)
    new = dt.datetime(2021, 1, 17, 15, 45)
    write_workbook(tmp_path / "lan-1" / "TX03.xlsx", CAMPAIGN, unit_code="TX03", modified=old)
    write_workbook(tmp_path / "lan-2" / "TX03 (đã sửa).xlsx", CAMPAIGN, unit_code="TX03",
                   modified=new, values=clean_values())
    data = workbook_bytes(CAMPAIGN, unit_code="TX04")
    (tmp_path / "Xuân Hồng.xlsx").write_bytes(data)
    (tmp_path / unicodedata.normalize("NFD", "Xuân Hồng (bản sao).xlsx")).write_bytes(data)
    result = ingest(tmp_path, CAMPAIGN)
    select(result.submissions, UNITS, TX, CAMPAIGN)
    status = {s.file: (s.status, codes(s)) for s in result.submissions}
    assert status["lan-1/TX03.xlsx"] == ("superseded", ["superseded"])
    assert status["lan-2/TX03 (đã sửa).xlsx"] == ("", [])
    copies = [status["Xuân Hồng.xlsx"], status["Xuân Hồng (bản sao).xlsx"]]
    assert sorted(copies) == [("", []), ("superseded", ["duplicate_copy"])]


def test_select_rejects_units_that_are_not_children_of_the_office(tmp_path):
    write_workbook(tmp_path / "Dan Luc.xlsx", CAMPAIGN, unit_code="TS02",
                   unit_name="Đoàn xã Dân Lực")
    write_workbook(tmp_path / "ma la.xlsx", CAMPAIGN, unit_code="XX99")
    write_workbook(tmp_path / "ok.xlsx", CAMPAIGN, unit_code="TX05")
    result = ingest(tmp_path, CAMPAIGN)
    select(result.submissions, UNITS, TX, CAMPAIGN)
    by_file = {s.file: s for s in result.submissions}
    dan_luc = by_file["Dan Luc.xlsx"]
    assert dan_luc.status == "unidentified" and codes(dan_luc) == ["unit_not_child"]
    assert "Huyện đoàn Triệu Sơn" in dan_luc.findings[0].message
    assert "Huyện đoàn Thọ Xuân" in dan_luc.findings[0].message
    assert codes(by_file["ma la.xlsx"]) == ["unit_unknown"]
    assert by_file["ok.xlsx"].status == ""


def test_a_rejected_newest_file_still_supersedes_an_older_one(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, modified=dt.datetime(2021, 1, 10))
    write_workbook(tmp_path / "b.xlsx", CAMPAIGN, modified=dt.datetime(2021, 1, 12),
                   cells={"PL2": {"XFD1048576": 1}})  # refused: too large
    result = ingest(tmp_path, CAMPAIGN)
    select(result.submissions, UNITS, TX, CAMPAIGN)
    assert [s.status for s in result.submissions] == ["superseded", "rejected"]


# --------------------------------------------------------------------------- LibreOffice


def _soffice(src: Path, fmt: str, out: Path) -> Path:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = out / "profile"
    subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", fmt, "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=180)
    return out / f"{src.stem}.{fmt}"


@pytest.mark.libreoffice
def test_ods_saved_by_libreoffice_is_read_like_the_xlsx(tmp_path):
    src = write_workbook(tmp_path / "src" / "TX01.xlsx", CAMPAIGN, values=clean_values())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ods = _soffice(src, "ods", tmp_path / "conv")
    shutil.copy(ods, inbox / ods.name)
    sub = only(ingest(inbox, CAMPAIGN))
    reference = only(ingest(src.parent, CAMPAIGN))
    assert sub.status == "" and sub.unit_code == "TX01", sub.findings
    assert sub.modified_at is not None
    assert [(c.form, c.row, c.column, c.cell) for c in sub.cells] == [
        (c.form, c.row, c.column, c.cell) for c in reference.cells]
    assert [c.raw for c in sub.cells] == [c.raw for c in reference.cells]


@pytest.mark.libreoffice
def test_xls_without_meta_asks_for_xlsx(tmp_path):
    src = write_workbook(tmp_path / "src" / "cu.xlsx", CAMPAIGN, meta=False, properties=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    xls = _soffice(src, "xls", tmp_path / "conv")
    shutil.copy(xls, inbox / xls.name)
    sub = only(ingest(inbox, CAMPAIGN))
    assert sub.status == "unidentified" and codes(sub) == ["legacy_xls"]


# --------------------------------------------------------------------------- pre-scan bounds


@pytest.mark.parametrize(("xml", "rows", "cols"), [
    (b'<worksheet><sheetData><row r="1"><c r="A1"/></row></sheetData></worksheet>', 999, 702),
    (b'<worksheet><sheetData><row r="5000"><c r="B5000"/></row></sheetData></worksheet>',
     5000, 2),
    (b'<worksheet><sheetData><row r="2"><c r="XFD2"/></row></sheetData></worksheet>',
     2, 16384),
    (b"<worksheet><sheetData><row><c/><c/><c/></row><row/></sheetData></worksheet>", 2, 3),
    # any XML whitespace may separate an element's name from its attributes
    (b'<worksheet><sheetData><row r="1"><c r="A1"/></row><row\nr="2"><c\tr="XFD2"/>'
     b"</row></sheetData></worksheet>", 2, 16384),
    (b'<worksheet><sheetData><row r="1"><c r="A1"/></row><row\r\nr="70000"><c\r\n'
     b'r="B70000"/></row></sheetData></worksheet>', 70000, 2),
    (b'<x:worksheet><x:sheetData><x:row r="1048576"><x:c r="C1048576"/></x:row>'
     b"</x:sheetData></x:worksheet>", 1048576, 3),
])
def test_sheet_prescan_bounds_every_kind_of_reference(xml, rows, cols):
    info = book_module._scan_xlsx_sheet(xml)
    assert (info.rows, info.cols) == (rows, cols)


def test_a_far_but_allowed_cell_is_read(tmp_path):
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, values=clean_values(),
                   cells={"PL2": {"C5000": "ghi chú ngoài biểu"}})
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert sub.status == "" and sub.findings == []
    assert any(c.raw == 15.0 for c in sub.cells if c.column == "bch_so_luong")


def test_map_entries_unknown_to_the_current_plan_are_skipped_with_a_warning(tmp_path):
    refs = [CellRef("PL4", "PL4", "2015", "tinh_so_nguoi", "B5"),
            CellRef("PL9", "PL9", "-", "x", "B5"),
            CellRef("PL4", "PL4", "2016", "tinh_so_nguoi", cell_of(CAMPAIGN, "PL4", "2016",
                                                                  "tinh_so_nguoi"))]
    write_workbook(tmp_path / "a.xlsx", CAMPAIGN, refs=refs, values=clean_values())
    sub = only(ingest(tmp_path, CAMPAIGN))
    assert codes(sub) == ["spec_changed"] and "2 ô" in sub.findings[0].message
    assert [(c.form, c.row, c.column, c.raw) for c in sub.cells] == [
        ("PL4", "2016", "tinh_so_nguoi", 2.0)]
