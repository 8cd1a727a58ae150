"""write_outputs on a hand-built result: CSVs read back byte by byte, atomicity, reruns."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import sys
import types
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import toolkit.report.outputs as outputs
from toolkit._infra.atomic import OutputError
from toolkit.report.aggregate import aggregate
from toolkit.report.outputs import csv_cell, csv_number, write_outputs
from toolkit.spec.load import load_campaign
from toolkit.spec.models import ConsolidationResult, Finding, Submission
from toolkit.spec.units import Unit

CAMPAIGN = load_campaign("nq02-2020")
OFFICE = Unit("TX", "Huyện đoàn Thọ Xuân", "huyen", "TDTH", "")
UNITS = [
    Unit("TX01", "Đoàn thị trấn Thọ Xuân", "co_so", "TX", ""),
    Unit("TX02", "Đoàn thị trấn Lam Sơn", "co_so", "TX", ""),
    Unit("TX03", "Đoàn thị trấn Sao Vàng", "co_so", "TX", ""),
    Unit("TX04", "Đoàn xã Xuân Hồng", "co_so", "TX", ""),
]
VN = dt.timezone(dt.timedelta(hours=7))
NAN = float("nan")
INJECTION = "=cmd|' /C calc'!A0"


def finding(file, unit, form, cell, column, severity, code, message, value=""):
    return Finding(file=file, unit_code=unit, form=form, cell=cell, column=column,
                   severity=severity, code=code, message=message, value=value)


def sub(file, unit, status, received, findings=(), name=None):
    identity = {"campaign": CAMPAIGN.id, "unit_code": unit} if unit else {}
    if name:
        identity["unit_name"] = name
    return Submission(file=file, path=Path("/nonexistent") / file, sha256=f"sha-{file}",
                      size=1, received_at=received, identity=identity,
                      findings=list(findings), status=status,
                      received_source="mail" if received is not None else "unknown")


def submissions():
    return [
        sub("mail/TX03.xlsx", "TX03", "accepted", dt.datetime(2021, 1, 20, 23, 59)),
        sub("mail/TX01.xlsx", "TX01", "accepted", dt.datetime(2021, 1, 19, 8, 0, tzinfo=VN),
            [finding("mail/TX01.xlsx", "TX01", "PL3", "C12", "cap_uy", "warning", "rule",
                     "Số tham gia cấp ủy lớn hơn số Bí thư, Phó Bí thư")]),
        # 20:00 UTC on the 20th is 03:00 on the 21st in Vietnam: late
        sub("mail/TX02-v2.xlsx", "TX02", "rejected",
            dt.datetime(2021, 1, 20, 20, 0, tzinfo=dt.UTC),
            [finding("mail/TX02-v2.xlsx", "TX02", "PL2", "E9", "bt_so_luong", "error",
                     "not_a_number", INJECTION, INJECTION),
             finding("mail/TX02-v2.xlsx", "TX02", "", "", "", "warning", "late",
                     "Gửi sau hạn")]),
        sub("mail/TX02-v1.xlsx", "TX02", "superseded", dt.datetime(2021, 1, 10, 9, 0),
            [finding("mail/TX02-v1.xlsx", "TX02", "PL2", "E9", "bt_so_luong", "error",
                     "required", "Thiếu số lượng")]),
        sub("lạ.xlsx", "", "unidentified", None,
            [finding("lạ.xlsx", "", "", "", "", "error", "unidentified",
                     "Không nhận diện được đơn vị")]),
    ]


def frame(form_id, records):
    form = CAMPAIGN.form(form_id)
    keys = [c.key for c in form.input_columns]
    rows = []
    for file, unit, row, values in records:
        rec = {"file": file, "unit_code": unit, "row": row}
        for key in keys:
            rec[key] = values.get(key, NAN if form.column(key).is_numeric else None)
        rows.append(rec)
    return pd.DataFrame(rows, columns=["file", "unit_code", "row", *keys])


def frames():
    return {
        "PL5": frame("PL5", [
            ("mail/TX01.xlsx", "TX01", "-", {"tap_hop_chi_tieu": 85.5, "tap_hop_so_nguoi": 12.0,
                                             "tap_hop_tong_so": 20.0, "lam_nha_so_tien": 12.75}),
            ("mail/TX03.xlsx", "TX03", "-", {"kiem_tra": 3.0, "lam_nha_so_tien": 1e-7}),
            # a rejected file's values never reach values.csv
            ("mail/TX02-v2.xlsx", "TX02", "-", {"kiem_tra": 99.0}),
        ]),
        "PL1": frame("PL1", [
            ("mail/TX01.xlsx", "TX01", "2", {"loai_van_ban": "Khác", "so_hieu": "-3 người",
                                             "trich_yeu": "+84 912 345 678"}),
            ("mail/TX01.xlsx", "TX01", "1", {"loai_van_ban": "Kế hoạch", "so_hieu": "=SUM(A1)",
                                             "ngay_ban_hanh": dt.date(2016, 3, 1),
                                             "trich_yeu": "@mention\tvà Hòa"}),
        ]),
        "PL4": frame("PL4", [
            ("mail/TX03.xlsx", "TX03", "2017", {"tinh_so_nguoi": 2.0}),
            ("mail/TX03.xlsx", "TX03", "2016", {"huyen_so_nguoi": 4.0, "ghi_chu": "Tốt"}),
        ]),
    }


def result():
    accepted = [u for u in UNITS if u.code in ("TX01", "TX03")]
    fr = frames()
    return ConsolidationResult(
        campaign=CAMPAIGN, office=OFFICE, submissions=submissions(), expected=list(UNITS),
        forms=aggregate(CAMPAIGN, fr, accepted),
        generated_at=dt.datetime(2021, 2, 1, tzinfo=dt.UTC), frames=fr)


@pytest.fixture(autouse=True)
def stub_summary(monkeypatch):
    """The summary workbook is another module's job: a stub keeps these tests about files."""
    module = types.ModuleType("toolkit.report.summary")
    module.summary_bytes = lambda r: f"SUMMARY {r.campaign.id} {len(r.submissions)}".encode()
    monkeypatch.setitem(sys.modules, "toolkit.report.summary", module)


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "\n" not in text.replace("\r\n", "")  # one line ending throughout
    return list(csv.reader(io.StringIO(text, newline="")))


def all_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize("value, text", [
    (12.0, "12"), (12, "12"), (0.1, "0.1"), (12.75, "12.75"), (-3.0, "-3"), (1e-7, "0.0000001"),
    (1234567.5, "1234567.5"), (1e20, "100000000000000000000"), (-0.0, "0"),
])
def test_numbers_machine_readable(value, text):
    assert csv_number(value) == text
    assert csv_cell(value) == text  # numbers are never neutralised


@pytest.mark.parametrize("text", ["=1+1", "+84", "-3", "@SUM(A1)", "\tx", "\rx", INJECTION])
def test_formula_injection_neutralised(text):
    assert csv_cell(text) == "'" + text


def test_plain_text_and_dates():
    assert csv_cell("-") == "-"  # the single-row key of the _meta contract is no formula
    assert csv_cell("Hòa") == "Hòa"
    assert csv_cell("Hoa\u0300") == "Hoà"  # NFC
    assert csv_cell(dt.date(2016, 3, 1)) == "2016-03-01"
    assert csv_cell(None) == ""


# --------------------------------------------------------------------------- CSV files


def test_values_csv(tmp_path):
    paths = write_outputs(result(), frames(), tmp_path)
    rows = read_csv(paths.values_csv)
    assert rows[0] == ["campaign", "unit_code", "unit_name", "form", "row", "column", "value"]
    c, tx03, tx01 = CAMPAIGN.id, UNITS[2].name, UNITS[0].name
    assert rows[1:] == [
        # submission order (TX03 first), then form order, row order, column spec order
        [c, "TX03", tx03, "PL4", "2016", "huyen_so_nguoi", "4"],
        [c, "TX03", tx03, "PL4", "2016", "ghi_chu", "Tốt"],
        [c, "TX03", tx03, "PL4", "2017", "tinh_so_nguoi", "2"],
        [c, "TX03", tx03, "PL5", "-", "kiem_tra", "3"],
        [c, "TX03", tx03, "PL5", "-", "lam_nha_so_tien", "0.0000001"],
        [c, "TX01", tx01, "PL1", "1", "loai_van_ban", "Kế hoạch"],
        [c, "TX01", tx01, "PL1", "1", "so_hieu", "'=SUM(A1)"],
        [c, "TX01", tx01, "PL1", "1", "ngay_ban_hanh", "2016-03-01"],
        [c, "TX01", tx01, "PL1", "1", "trich_yeu", "'@mention\tvà Hòa"],
        [c, "TX01", tx01, "PL1", "2", "loai_van_ban", "Khác"],
        [c, "TX01", tx01, "PL1", "2", "so_hieu", "'-3 người"],
        [c, "TX01", tx01, "PL1", "2", "trich_yeu", "'+84 912 345 678"],
        [c, "TX01", tx01, "PL5", "-", "tap_hop_chi_tieu", "85.5"],
        [c, "TX01", tx01, "PL5", "-", "tap_hop_so_nguoi", "12"],
        [c, "TX01", tx01, "PL5", "-", "tap_hop_tong_so", "20"],
        [c, "TX01", tx01, "PL5", "-", "lam_nha_so_tien", "12.75"],
    ]


def test_findings_csv(tmp_path):
    paths = write_outputs(result(), frames(), tmp_path)
    rows = read_csv(paths.findings_csv)
    assert rows[0] == ["file", "unit_code", "form", "cell", "column", "severity", "code",
                       "message"]
    assert rows[1:] == [
        ["lạ.xlsx", "", "", "", "", "error", "unidentified", "Không nhận diện được đơn vị"],
        ["mail/TX01.xlsx", "TX01", "PL3", "C12", "cap_uy", "warning", "rule",
         "Số tham gia cấp ủy lớn hơn số Bí thư, Phó Bí thư"],
        ["mail/TX02-v1.xlsx", "TX02", "PL2", "E9", "bt_so_luong", "error", "required",
         "Thiếu số lượng"],
        ["mail/TX02-v2.xlsx", "TX02", "", "", "", "warning", "late", "Gửi sau hạn"],
        ["mail/TX02-v2.xlsx", "TX02", "PL2", "E9", "bt_so_luong", "error", "not_a_number",
         "'" + INJECTION],
    ]


def test_submissions_csv(tmp_path):
    paths = write_outputs(result(), frames(), tmp_path)
    rows = read_csv(paths.submissions_csv)
    # the columns of the contract, in order; received_source was added at the end
    assert rows[0] == ["unit_code", "unit_name", "status", "file", "sha256", "received_at",
                       "late", "received_source"]
    n = {u.code: u.name for u in UNITS}
    assert rows[1:] == [
        ["TX01", n["TX01"], "accepted", "mail/TX01.xlsx", "sha-mail/TX01.xlsx",
         "2021-01-19T08:00:00+07:00", "no", "mail"],
        ["TX02", n["TX02"], "rejected", "mail/TX02-v2.xlsx", "sha-mail/TX02-v2.xlsx",
         "2021-01-20T20:00:00+00:00", "yes", "mail"],
        ["TX02", n["TX02"], "superseded", "mail/TX02-v1.xlsx", "sha-mail/TX02-v1.xlsx",
         "2021-01-10T09:00:00", "no", "mail"],
        ["TX03", n["TX03"], "accepted", "mail/TX03.xlsx", "sha-mail/TX03.xlsx",
         "2021-01-20T23:59:00", "no", "mail"],
        ["TX04", n["TX04"], "missing", "", "", "", "", ""],
        ["", "", "unidentified", "lạ.xlsx", "sha-lạ.xlsx", "", "", "unknown"],
    ]


def test_late_without_deadline_for_level_is_unknown(tmp_path):
    res = result()
    province_unit = Unit("TX01", "Đoàn thị trấn Thọ Xuân", "tinh", "TX", "")  # no tinh deadline
    res.expected = [province_unit, *UNITS[1:]]
    rows = read_csv(write_outputs(res, frames(), tmp_path).submissions_csv)
    assert next(r for r in rows if r[0] == "TX01")[6] == ""


# --------------------------------------------------------------------------- workbooks


def test_summary_and_feedback_files(tmp_path):
    folder = tmp_path / "ket-qua"  # --out itself holds the set (the contract)
    paths = write_outputs(result(), frames(), folder)
    assert paths.folder == folder
    assert paths.summary == folder / f"tong-hop_{CAMPAIGN.id}_TX.xlsx"
    assert (paths.values_csv, paths.findings_csv, paths.submissions_csv) == (
        folder / "values.csv", folder / "findings.csv", folder / "submissions.csv")
    assert paths.summary.read_bytes() == f"SUMMARY {CAMPAIGN.id} 5".encode()
    names = [p.name for p in paths.feedback]
    # accepted with warnings and rejected get one; superseded none; unidentified by file name
    assert names == [f"TX01_{CAMPAIGN.id}_phan-hoi.xlsx", f"TX02_{CAMPAIGN.id}_phan-hoi.xlsx",
                     f"khong-ro_lạ_{CAMPAIGN.id}_phan-hoi.xlsx"]
    assert all(p.parent == folder / "feedback" for p in paths.feedback)
    wb = openpyxl.load_workbook(paths.feedback[1])
    listed = [row[6] for row in wb["Lỗi cần sửa"].iter_rows(values_only=True)]
    assert INJECTION in listed and "Thiếu số lượng" not in listed


def test_stale_feedback_removed_nothing_else(tmp_path):
    """A feedback file of the run before whose unit has nothing to fix now is gone from the
    set (kept under .truoc/ for one run); the clerk's own files, in the set folder or
    beside it, stay; a feedback file the clerk edited is kept under another name, so that
    mail send-feedback never sends it."""
    folder = tmp_path / "ket-qua"
    first = write_outputs(result(), frames(), folder)
    assert first.folder == folder
    feedback = folder / "feedback"
    notes, beside = feedback / "ghi-chu.txt", folder / "cua-toi" / "cua-toi.txt"
    beside.parent.mkdir()
    for p in (notes, beside):
        p.write_bytes(b"mine")
    edited = first.feedback[2]  # the unidentified file's feedback, edited by the clerk
    edited.write_bytes(b"edited")
    before = all_files(folder)
    fewer = result()
    fewer.submissions = [s for s in fewer.submissions if s.status != "unidentified"]
    paths = write_outputs(fewer, frames(), folder)
    assert paths.folder == folder and not edited.exists()
    kept = edited.with_name(edited.stem + "_giu-lai" + edited.suffix)
    assert kept.read_bytes() == b"edited"
    assert notes.read_bytes() == b"mine" and beside.read_bytes() == b"mine"
    assert sorted(feedback.iterdir()) == sorted([*paths.feedback, notes, kept])
    assert paths.previous == tmp_path / ".truoc" / folder.name
    assert all_files(paths.previous) == before  # the first run, as the clerk left it
    other = result()
    other.office = dataclasses.replace(other.office, code="TS", name="Huyện đoàn Triệu Sơn")
    with pytest.raises(OutputError, match="Huyện đoàn Triệu Sơn"):
        write_outputs(other, frames(), folder)  # another office's run: refused, not mixed
    assert all_files(folder) == all_files(paths.folder)


def test_rerun_gives_identical_bytes(tmp_path):
    write_outputs(result(), frames(), tmp_path / "a")
    write_outputs(result(), frames(), tmp_path / "b")
    first = all_files(tmp_path / "a")
    assert all_files(tmp_path / "b") == first
    again = write_outputs(result(), frames(), tmp_path / "a")
    # the set is the same but for the manifest, which counts the runs
    manifest = ".toolkit-ket-qua.json"
    assert again.folder == tmp_path / "a"
    assert {k: v for k, v in all_files(tmp_path / "a").items()
            if k != manifest} == {
        k: v for k, v in first.items() if k != manifest}


@pytest.mark.parametrize("where", ["summary", "feedback"])
def test_failure_midway_leaves_previous_outputs(tmp_path, monkeypatch, where):
    write_outputs(result(), frames(), tmp_path)
    before = all_files(tmp_path)
    changed = result()
    changed.submissions[0].findings.append(
        finding("mail/TX03.xlsx", "TX03", "PL5", "D9", "kiem_tra", "warning", "x", "mới"))
    if where == "summary":
        def boom(r):
            raise RuntimeError("summary failed")
        monkeypatch.setattr(sys.modules["toolkit.report.summary"], "summary_bytes", boom)
    else:  # the disk fills up while the second feedback workbook is written
        real, calls = outputs._put, []

        def boom(target, data):
            if target.parent.name == outputs.FEEDBACK_DIR:
                calls.append(target)
                if len(calls) == 2:
                    raise OSError(28, "No space left on device")
            return real(target, data)
        monkeypatch.setattr(outputs, "_put", boom)
    with pytest.raises((RuntimeError, OSError)):
        write_outputs(changed, frames(), tmp_path)
    assert all_files(tmp_path) == before
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]


def test_a_feedback_workbook_that_cannot_be_made_is_reported_not_fatal(tmp_path, monkeypatch):
    """Feedback is patched from the unit's own (untrusted) file: one that defeats both
    writers costs only its own feedback workbook, and the clerk is told which, in
    Vietnamese; a file that defeats only the XML patch still gets openpyxl's workbook."""
    plan = outputs.feedback_plan(result())
    assert len(plan) >= 3
    victim, patch_only = plan[1][1].file, plan[2][1].file
    feedback = sys.modules["toolkit.report.feedback"]
    real_slow = feedback.feedback_bytes

    def fast(sub, campaign):
        if sub.file in (victim, patch_only):
            raise ValueError("tệp hỏng")
        return None  # the XML path declines: openpyxl writes the others

    def slow(sub, campaign):
        if sub.file == victim:
            raise KeyError("xl/styles.xml\x1b[2J")
        return real_slow(sub, campaign)

    monkeypatch.setattr(feedback, "feedback_bytes_fast", fast)
    monkeypatch.setattr(feedback, "feedback_bytes", slow)
    paths = write_outputs(result(), frames(), tmp_path)
    why = ("tệp của đơn vị có nội dung không xử lý được nên không tạo được tệp phản hồi; "
           "danh sách lỗi có trong findings.csv (chi tiết kỹ thuật: KeyError: "
           "'xl/styles.xml\\x1b[2J')")
    assert paths.feedback_failed == [(victim, why)]
    assert [p.name for p in paths.feedback] == [name for name, sub in plan if sub.file != victim]
    assert all(p.read_bytes().startswith(b"PK") for p in paths.feedback)
    from toolkit.report.terminal import render_run_summary

    assert f"Không tạo được tệp phản hồi cho {victim}: {why}" in (
        render_run_summary(result(), paths))


def test_real_summary_workbook(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "toolkit.report.summary")
    pytest.importorskip("toolkit.report.summary")
    paths = write_outputs(result(), frames(), tmp_path)
    wb = openpyxl.load_workbook(paths.summary)
    assert "_meta" in wb.sheetnames


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="helper processes: Linux")
def test_summary_made_by_a_helper_process_is_the_one_made_here(tmp_path, monkeypatch):
    """The summary workbook is made in a forked helper beside the CSVs and feedback: the
    files must be exactly those of a run made in one process."""
    from toolkit._infra import workers

    monkeypatch.setenv(workers.JOBS_ENV, "0")
    write_outputs(result(), frames(), tmp_path / "alone")
    monkeypatch.setenv(workers.JOBS_ENV, "2")
    write_outputs(result(), frames(), tmp_path / "helped")
    assert all_files(tmp_path / "helped") == all_files(tmp_path / "alone")
