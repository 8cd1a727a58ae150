"""What a clerk trips over (issue 18, items 9–17): each fix read back from the real files
the toolkit writes — the built-in targets campaign's deadline and header, the bundled
targets samples, received times and their source, counts typed with a thousands comma, the
phone-call list, the zip saved by hand, the messages of a wrong or empty run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from builders import cell_of, clean_values, workbook_bytes, write_workbook
from click.testing import CliRunner
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.check.values import parse_value
from toolkit.cli import cli, common
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.spec.campaign import Column
from toolkit.spec.findings import CODES, LABELS
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.units import load_units
from toolkit.write.charts import CHART_SHEET
from toolkit.write.templates import template_bytes

TARGETS = "giua-nhiem-ky-2017-2022"
UNITS = load_units(samples_dir() / "units.csv")


def _cells(book_bytes: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(book_bytes))
    return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None]


def _rows(path: Path, sheet: str) -> list[tuple]:
    ws = load_workbook(path)[sheet]
    return [r for r in ws.iter_rows(values_only=True)]


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


# ------------------------------------------------------------------ item 10: the spec


def test_base_units_deadline_is_the_plans_sending_date() -> None:
    """Plan 40-KH/ĐTN: the appendices reach the Huyện đoàn «trước ngày 10/4/2020»; 15/4 is
    when the review ends. A base unit's template says 10/04/2020."""
    campaign = load_campaign(TARGETS)
    seed = next((Path("/work/shared/seeds")).glob("000_*.txt"), None)
    if seed is not None:  # the plan itself, when it is at hand
        assert "về Văn phòng Huyện đoàn trước ngày 10/4/2020" in seed.read_text(
            encoding="utf-8")
    unit = UNITS.get("TS01")
    text = " ".join(_cells(template_bytes(campaign, unit, UNITS.get("TS"))))
    assert "10/04/2020" in text and "15/04/2020" not in text


def test_programmes_header_is_one_cell_in_the_template() -> None:
    book = load_workbook(io.BytesIO(template_bytes(load_campaign(TARGETS), None, None)))
    ws = book["CTR"]
    values = [c.value for row in ws.iter_rows(max_row=20) for c in row if c.value]
    assert "Số đoàn viên, thanh niên tham gia, hưởng lợi" in values
    assert "thanh niên tham gia" not in values and "hưởng lợi" not in values


def test_targets_samples_look_like_real_units(tmp_path: Path) -> None:
    """The bundled samples land at 70–130 % of each unit's target (issue 18 item 18: they
    ran from 9 % to 633 %). Completion read back from the summary's per-unit table."""
    for campaign_id, office in ((TARGETS, "TS"), ("nq01-hoc-tap-2018", "TX")):
        campaign = load_campaign(campaign_id)
        result = consolidate(samples_dir() / campaign_id / "inbox", campaign, UNITS,
                             UNITS.get(office))
        out = tmp_path / campaign_id
        write_outputs(result, None, out)
        (form,) = [f for f in campaign.forms if f.kind == "targets"]
        rows = _rows(next(out.glob("tong-hop_*.xlsx")), CHART_SHEET)  # the completion table
        start = next(i for i, r in enumerate(rows) if r[0] == "Đơn vị") + 1
        shares = [v for r in rows[start:] if r[0] for v in r[1:] if isinstance(v, float | int)]
        assert len(shares) >= 3 * len(form.indicators), campaign_id
        assert all(0.7 <= v <= 1.3 for v in shares), (campaign_id, min(shares), max(shares))


# ------------------------------------------------------------------ item 16: "1,234" in a count


def _thousands_members() -> list[tuple[str, float]]:
    """Generated ``h,ddd`` texts over heads of 1–3 digits and tails across 000–999."""
    rng = random.Random("thousands-comma")
    heads = [1, 2, 9, 10, 12, 99, 100, 250, 999, *rng.sample(range(1, 1000), 12)]
    tails = [0, 5, 50, 500, 999, *rng.sample(range(1000), 8)]
    return [(f"{h},{t:03d}", float(h * 1000 + t)) for h in heads for t in tails]


def test_a_thousands_comma_in_a_count_is_read_as_thousands() -> None:
    count = Column("so_nguoi", ("Số người",), "count", min=0)
    money = Column("tien", ("Số tiền (triệu đồng)",), "money", min=0)
    number = Column("so", ("Số",), "number")
    for text, meant in _thousands_members():
        for shown in (text, f" {text} ", f"'{text}"):
            assert parse_value(shown, count) == (meant, None, "thousands_comma_read"), shown
        # elsewhere a single comma is the Vietnamese decimal comma, as always
        decimal = float(text.replace(",", "."))
        assert parse_value(text, money).value == decimal
        assert parse_value(text, number).value == decimal
        assert parse_value("-" + text, count).problem == "negative"


def test_a_decimal_comma_in_a_count_stays_a_decimal() -> None:
    """Only a 1–3 digit non-zero head and exactly three digits can be thousands: "1,5",
    "12,50", "0,500", "1,2345", "1234,567" are decimals, which a count refuses."""
    count = Column("so_nguoi", ("Số người",), "count", min=0)
    rng = random.Random("decimal-comma")
    members = ["0,500", "0,125", "1234,567", "1,2345"]
    for _ in range(60):
        head = rng.choice([0, 1, 7, 12, 345])
        digits = rng.choice([1, 2, 4, 5])
        tail = rng.randint(1, 10 ** digits - 1)
        if tail % 10 == 0:
            tail += 1  # a tail of zeros only would be a whole number
        members.append(f"{head},{tail:0{digits}d}")
    for text in members:
        assert parse_value(text, count).problem == "not_integer", text


def test_thousands_comma_read_back_from_the_outputs(tmp_path: Path) -> None:
    """Typed as text in a real workbook: values.csv holds 1234 / 2500 for the counts and
    2.5 for the money column; findings.csv has the warning on each count cell."""
    campaign = load_campaign("nq02-2020")
    values = clean_values()
    values["PL5"]["-"].update({"tap_hop_so_nguoi": "1,234", "tap_hop_tong_so": "2,500",
                               "lam_nha_so_tien": "2,500"})
    inbox = tmp_path / "inbox"
    write_workbook(inbox / "TX01.xlsx", campaign, values=values)
    result = consolidate(inbox, campaign, UNITS, UNITS.get("TX"))
    write_outputs(result, None, tmp_path / "out")
    got = {r["column"]: r["value"] for r in _csv(tmp_path / "out" / "values.csv")
           if r["unit_code"] == "TX01" and r["form"] == "PL5"}
    assert got["tap_hop_so_nguoi"] == "1234" and got["tap_hop_tong_so"] == "2500"
    assert float(got["lam_nha_so_tien"]) == 2.5
    warned = {r["cell"]: r for r in _csv(tmp_path / "out" / "findings.csv")
              if r["code"] == "thousands_comma_read"}
    for key, typed in (("tap_hop_so_nguoi", "1,234"), ("tap_hop_tong_so", "2,500")):
        row = warned[cell_of(campaign, "PL5", "-", key)]
        assert row["severity"] == "warning" and f"«{typed}»" in row["message"]
    status = {r["unit_code"]: r["status"] for r in _csv(tmp_path / "out" / "submissions.csv")}
    assert status["TX01"] == "accepted"


# ------------------------------------------------------------------ item 9: received time


def _without_modified(data: bytes) -> bytes:
    """The workbook with no ``dcterms:modified`` in docProps/core.xml (a program that does
    not stamp it)."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", body)
            dst.writestr(item, body)
    return out.getvalue()


def test_received_time_without_a_manifest_is_the_units_save_time(tmp_path: Path) -> None:
    """A hand-saved inbox: the clerk saved every attachment today, yet a unit that saved its
    file before the deadline is on time; one file's time comes from the mail manifest; a
    file whose program stamps no save time has no received time and is never late. The
    source is in submissions.csv (new last column) and in the status sheet."""
    campaign = load_campaign("nq02-2020")  # co_so deadline 20/01/2021
    inbox = tmp_path / "inbox"
    saved = {  # unit → its own save time (UTC), as Excel stamps it
        "TX01": dt.datetime(2021, 1, 18, 2, 0), "TX02": dt.datetime(2021, 1, 20, 16, 0),
        "TX03": dt.datetime(2021, 1, 20, 17, 30), "TX05": dt.datetime(2021, 1, 25, 3, 0)}
    for code, when in saved.items():
        write_workbook(inbox / f"{code}.xlsx", campaign, unit_code=code,
                       unit_name=UNITS.get(code).name, values=clean_values(), modified=when)
    (inbox / "TX04.xlsx").write_bytes(_without_modified(
        workbook_bytes(campaign, unit_code="TX04", unit_name=UNITS.get("TX04").name,
                       values=clean_values())))
    (inbox / "manifest.csv").write_text(
        "file,sender,date,message_id,subject\r\n"
        "TX05.xlsx,b@x.vn,2021-01-19T09:15:00+07:00,<5@x.vn>,Báo cáo\r\n", encoding="utf-8")
    for path in inbox.iterdir():  # the clerk saved them all now
        os.utime(path, None)
    result = consolidate(inbox, campaign, UNITS, UNITS.get("TX"))
    paths = write_outputs(result, result.frames, tmp_path / "out")
    rows = {r["unit_code"]: r for r in _csv(paths.submissions_csv)}
    header = next(csv.reader(io.StringIO(
        paths.submissions_csv.read_text(encoding="utf-8-sig"))))
    assert header == ["unit_code", "unit_name", "status", "file", "sha256", "received_at",
                      "late", "received_source"]
    expected = {  # (received_at, late, source): 16:00 UTC on the 20th is 23:00 in Vietnam
        "TX01": ("2021-01-18T02:00:00+00:00", "no", "saved"),
        "TX02": ("2021-01-20T16:00:00+00:00", "no", "saved"),
        "TX03": ("2021-01-20T17:30:00+00:00", "yes", "saved"),  # 00:30 on the 21st
        "TX04": ("", "", "unknown"),
        "TX05": ("2021-01-19T09:15:00+07:00", "no", "mail"),
    }
    for code, (received, late, source) in expected.items():
        row = rows[code]
        assert (row["received_at"], row["late"], row["received_source"]) == (
            received, late, source), code
    assert rows["TX06"]["status"] == "missing" and rows["TX06"]["received_source"] == ""
    sheet = _rows(paths.summary, "Tình hình nộp")
    top = next(i for i, r in enumerate(sheet) if r[0] == "TT")
    col = {name: i for i, name in enumerate(sheet[top])}
    shown = {r[1]: r for r in sheet[top + 1:] if r[1]}
    labels = {"saved": "theo thời gian đơn vị lưu tệp", "mail": "theo thư điện tử",
              "unknown": "không rõ"}
    for code, (_received, late, source) in expected.items():
        r = shown[code]
        assert r[col["Nguồn thời gian nhận"]] == labels[source], code
        assert r[col["Đúng hạn / trễ hạn"]] == {"no": "Đúng hạn", "yes": "Trễ hạn",
                                                 "": "Không rõ"}[late], code
    assert shown["TX02"][col["Thời gian nhận"]] == dt.datetime(2021, 1, 20, 23, 0)
    on_time = next(r[3] for r in sheet if r[0] == "Số đơn vị nộp đúng hạn")
    assert on_time == 3  # TX01, TX02, TX05; TX04 unknown is neither on time nor late


def test_targets_sample_is_mostly_on_time(tmp_path: Path) -> None:
    """The targets sample has no manifest: its units' save times say who was late (every
    fifth unit), not the day the sample was checked out (it showed 0 % on time)."""
    campaign = load_campaign("nq01-hoc-tap-2018")
    result = consolidate(samples_dir() / campaign.id / "inbox", campaign, UNITS,
                         UNITS.get("TX"))
    paths = write_outputs(result, None, tmp_path)
    rows = [r for r in _csv(paths.submissions_csv) if r["status"] == "accepted"]
    assert len(rows) == 31 and all(r["received_source"] == "saved" for r in rows)
    late = [r["unit_code"] for r in rows if r["late"] == "yes"]
    assert late == [f"TX{i:02d}" for i in range(5, 32, 5)]
    assert next(r[3] for r in _rows(paths.summary, "Tình hình nộp")
                if r[0] == "Số đơn vị nộp đúng hạn") == 31 - len(late)


# ------------------------------------------------------------------ item 14: codes as words


def test_every_finding_code_has_vietnamese_words() -> None:
    assert set(LABELS) == set(CODES)
    for code, words in LABELS.items():
        assert words and words != code and "_" not in words.replace("_meta", ""), code


def test_the_findings_sheet_shows_words_and_the_csv_keeps_the_code(tmp_path: Path) -> None:
    campaign = load_campaign("nq02-2020")
    values = clean_values()
    values["PL2"]["-"]["bt_so_luong"] = "ba"
    inbox = tmp_path / "inbox"
    write_workbook(inbox / "TX01.xlsx", campaign, values=values)
    result = consolidate(inbox, campaign, UNITS, UNITS.get("TX"))
    paths = write_outputs(result, result.frames, tmp_path / "out")
    cell = cell_of(campaign, "PL2", "-", "bt_so_luong")
    (row,) = [r for r in _csv(paths.findings_csv) if r["cell"] == cell]
    assert row["code"] == "not_a_number"
    sheet = _rows(paths.summary, "Lỗi")
    top = next(i for i, r in enumerate(sheet) if r[0] == "Tệp")
    col = {name: i for i, name in enumerate(sheet[top])}
    assert "Mã" not in col
    (shown,) = [r for r in sheet[top + 1:] if r[col["Ô"]] == cell]
    assert shown[col["Loại"]] == "Không phải số"
    assert not any(isinstance(v, str) and v in CODES for r in sheet for v in r)


# ------------------------------------------------------------------ item 11: no silent defaults


def test_units_file_and_office_are_required_and_named(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOOLKIT_UNITS")
    monkeypatch.chdir(tmp_path)  # outside the repository: no bundled list is reached for
    runner = CliRunner()
    sample = str(samples_dir() / "units.csv")
    for args, needle in (
            (["make-templates", "--office", "TX"], "Chưa chọn tệp danh sách đơn vị"),
            (["make-templates", "--units", sample], "Chưa chọn văn phòng ra kế hoạch"),
            (["consolidate", "hop-thu", "--units", sample], "Chưa chọn văn phòng"),
            (["make-allocation", "--campaign", TARGETS, "--office", "TS"], "--units")):
        result = runner.invoke(cli, [*args, "--out", "ra"], prog_name="toolkit")
        assert result.exit_code == 1 and needle in result.output, result.output
        assert result.output.startswith("Lỗi: ") and len(result.output.splitlines()) == 1
        assert not (tmp_path / "ra").exists()
    result = runner.invoke(cli, ["make-templates", "--units", sample], prog_name="toolkit")
    assert "TX (Huyện đoàn Thọ Xuân)" in result.output  # the offices it could have meant
    result = runner.invoke(cli, ["make-templates", "--units", sample, "--office", "tx",
                                 "--out", "ra"], prog_name="toolkit")
    assert result.exit_code == 0, result.output
    assert (f"Tệp đơn vị: {sample} (theo --units); văn phòng: Huyện đoàn Thọ Xuân "
            "(TX, theo --office)") in result.output
    made = set()
    for path in (tmp_path / "ra").glob("*.xlsx"):
        meta = parse_meta(list(load_workbook(path)[META_SHEET].iter_rows(values_only=True)))
        made.add(meta.unit_code)
    assert made == {u.code for u in UNITS.children("TX")} | {""}
    monkeypatch.setenv("TOOLKIT_UNITS", sample)
    monkeypatch.setenv("TOOLKIT_OFFICE", "TS")
    result = runner.invoke(cli, ["make-templates", "--out", "ts"], prog_name="toolkit")
    assert "(theo TOOLKIT_UNITS); văn phòng: Huyện đoàn Triệu Sơn (TS, theo TOOLKIT_OFFICE)" in (
        result.output)


def test_a_workspace_default_plugs_into_the_one_resolver(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    sample = samples_dir() / "units.csv"
    monkeypatch.setattr(common, "workspace_settings", lambda: (sample, "NL"))
    choice = common.resolve_office(None, None)
    assert (choice.office.code, choice.units_from, choice.office_from) == (
        "NL", "không gian làm việc", "không gian làm việc")
    assert common.resolve_office(None, "TX").office_from == "--office"


# ------------------------------------------------------------------ item 12: say what happened


def test_an_empty_inbox_says_so(tmp_path: Path) -> None:
    runner = CliRunner()
    for name, files in (("trong", {}), ("chi-co-ghi-chu", {"ghi-chu.txt": b"x"})):
        inbox = tmp_path / name
        inbox.mkdir()
        for file, data in files.items():
            (inbox / file).write_bytes(data)
        result = runner.invoke(cli, ["consolidate", str(inbox), "--office", "TX", "--out",
                                     str(tmp_path / f"ra-{name}")], prog_name="toolkit")
        assert result.exit_code == 0, result.output
        assert f"Hộp thư {inbox} không có tệp bảng tính nào" in result.output
        assert "kiểm tra đường dẫn hộp thư" in result.output
    result = runner.invoke(cli, ["consolidate", str(samples_dir() / "inbox"), "--office", "TX",
                                 "--out", str(tmp_path / "ra")], prog_name="toolkit")
    assert "không có tệp bảng tính nào" not in result.output


def test_an_empty_allocation_is_refused_in_one_sentence(tmp_path: Path) -> None:
    runner = CliRunner()
    alloc = tmp_path / "phan-bo.xlsx"
    made = runner.invoke(cli, ["make-allocation", "--campaign", TARGETS, "--office", "TS",
                               "--out", str(alloc)], prog_name="toolkit")
    assert made.exit_code == 0, made.output
    result = runner.invoke(cli, ["make-templates", "--campaign", TARGETS, "--office", "TS",
                                 "--targets", str(alloc), "--out", str(tmp_path / "bm")],
                           prog_name="toolkit")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: phan-bo.xlsx: chưa có chỉ tiêu nào")
    assert "«không giao»" in lines[0] and "bỏ --targets" in lines[0]
    assert not (tmp_path / "bm").exists()


def test_send_feedback_with_nothing_to_send_says_why(tmp_path: Path) -> None:
    campaign = load_campaign("nq02-2020")
    result = consolidate(samples_dir() / "inbox", campaign, UNITS, UNITS.get("TX"))
    out = tmp_path / "ket-qua"
    write_outputs(result, result.frames, out)
    runner = CliRunner()
    args = ["mail", "send-feedback", "--results", str(out), "--dry-run", "--from",
            "vp@tx.example", "--out", str(tmp_path / "thu")]
    missing = runner.invoke(cli, args, prog_name="toolkit")
    assert missing.exit_code == 1 and "Chưa chọn văn phòng" in missing.output
    other = runner.invoke(cli, [*args, "--office", "NL"], prog_name="toolkit")
    assert other.exit_code == 0, other.output
    assert "Không có thư nào để gửi" in other.output and "Huyện đoàn Ngọc Lặc" in (
        other.output)
    own = runner.invoke(cli, [*args, "--office", "TX"], prog_name="toolkit")
    assert own.exit_code == 0 and "Không có thư nào để gửi" not in own.output
    written = list((tmp_path / "thu").rglob("*.eml"))
    assert written and len(written) == len(list((out / "feedback").glob("TX*.xlsx")))


# ------------------------------------------------------------------ item 15: a zip in the inbox


def _zip(members: dict[str, bytes], *, utf8_flag: bool = True) -> bytes:
    class RawName(zipfile.ZipInfo):
        def _encodeFilenameFlags(self):  # type: ignore[no-untyped-def]  # UTF-8, no flag
            return self.filename.encode("utf-8"), self.flag_bits & ~0x800

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = (zipfile.ZipInfo if utf8_flag else RawName)(name, (2021, 1, 18, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def _lying_zip(name: str, inflated: int, declared: int) -> bytes:
    """A zip whose one member declares ``declared`` bytes and inflates to ``inflated``."""
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = raw.compress(b"\0" * inflated) + raw.flush()
    encoded = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, 0, len(body), declared,
                        len(encoded), 0) + encoded
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, 0, len(body),
                          declared, len(encoded), 0, 0, 0, 0, 0, 0) + encoded
    data = local + body
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(data), 0)
    return data + central + end


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_zip_saved_into_the_inbox_is_unpacked_with_the_same_guards(tmp_path: Path) -> None:
    campaign = load_campaign("nq02-2020")

    def filled(code: str, bt: int) -> bytes:
        values = clean_values()
        values["PL2"]["-"]["bch_so_luong"] = bt
        return workbook_bytes(campaign, unit_code=code, unit_name=UNITS.get(code).name,
                              values=values)

    inbox = tmp_path / "hop-thu"
    inbox.mkdir()
    (inbox / "TX01.xlsx").write_bytes(filled("TX01", 21))
    (inbox / "thư TX02.zip").write_bytes(_zip({
        "Báo cáo TX02.xlsx": filled("TX02", 22),
        "con/TX03.xlsx": filled("TX03", 23),
        "__MACOSX/con/._TX03.xlsx": b"junk",
        "~$Báo cáo TX02.xlsx": b"lock",
        "ghi chú.txt": b"x"}))
    (inbox / "TX05 khong co co.zip").write_bytes(_zip({"Phụ lục TX05.xlsx": filled("TX05", 25)},
                                                      utf8_flag=False))
    (inbox / "bom.zip").write_bytes(_lying_zip("TX04.xlsx", 30 * 2**20, 1000))
    (inbox / "chi-co-chu.zip").write_bytes(_zip({"doc.txt": b"x"}))
    (inbox / "hong.zip").write_bytes(b"PK\x03\x04 not really a zip")
    before = _tree(inbox)
    result = consolidate(inbox, campaign, UNITS, UNITS.get("TX"))
    paths = write_outputs(result, result.frames, tmp_path / "ra")
    assert _tree(inbox) == before  # nothing written into the inbox, nothing unpacked there
    rows = {r["unit_code"]: r for r in _csv(paths.submissions_csv) if r["status"]}
    files = {"TX01": "TX01.xlsx", "TX02": "thư TX02.zip › Báo cáo TX02.xlsx",
             "TX03": "thư TX02.zip › con/TX03.xlsx",
             "TX05": "TX05 khong co co.zip › Phụ lục TX05.xlsx"}
    for code, file in files.items():
        assert (rows[code]["status"], rows[code]["file"]) == ("accepted", file), code
    assert rows["TX04"]["status"] == "missing"
    got = {r["unit_code"]: r["value"] for r in _csv(paths.values_csv)
           if r["form"] == "PL2" and r["column"] == "bch_so_luong"}
    assert got == {"TX01": "21", "TX02": "22", "TX03": "23", "TX05": "25"}
    skipped = dict(result.skipped)
    assert "không có tệp bảng tính" in skipped["chi-co-chu.zip"]
    assert "hỏng" in skipped["hong.zip"]
    assert "bị từ chối" in skipped["bom.zip"] and "TX04.xlsx" in skipped["bom.zip"]
    status = _rows(paths.summary, "Tình hình nộp")
    shown = [r for r in status if r[3] == "Bỏ qua"]
    assert {r[4] for r in shown} >= {"bom.zip", "chi-co-chu.zip", "hong.zip"}


def test_make_allocation_adds_the_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.chdir(tmp_path)
    for typed, written in (("phan-bo", "phan-bo.xlsx"), ("bang.XLSX", "bang.XLSX"),
                           ("ban.v2", "ban.v2.xlsx")):
        result = CliRunner().invoke(cli, ["make-allocation", "--campaign", TARGETS,
                                          "--office", "TS", "--out", typed])
        assert result.exit_code == 0, result.output
        assert (tmp_path / written).is_file() and written in result.output
        assert load_workbook(tmp_path / written).sheetnames  # a real workbook
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ban.v2.xlsx", "bang.XLSX",
                                                          "phan-bo.xlsx"]


# ------------------------------------------------------------------ item 17: who to call


def test_the_call_list_names_every_unit_to_call_with_its_contact(tmp_path: Path) -> None:
    """The sample inbox: units missing or rejected, each once, with the phone and e-mail of
    the units file, on the summary's «Cần liên hệ» sheet and in the terminal output."""
    campaign = load_campaign("nq02-2020")
    result = consolidate(samples_dir() / "inbox", campaign, UNITS, UNITS.get("TX"))
    paths = write_outputs(result, result.frames, tmp_path / "ra")
    status = {r["unit_code"]: r["status"] for r in _csv(paths.submissions_csv)
              if r["status"] in ("accepted", "rejected", "missing")}
    expected = [u for u in UNITS.children("TX") if status.get(u.code) in ("missing",
                                                                           "rejected")]
    assert {status[u.code] for u in expected} == {"missing", "rejected"}  # both kinds shown
    book = load_workbook(paths.summary)
    assert book.sheetnames[1] == "Cần liên hệ"
    sheet = [r for r in book["Cần liên hệ"].iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(sheet) if r[0] == "TT")
    col = {name: i for i, name in enumerate(sheet[top])}
    rows = [r for r in sheet[top + 1:] if r[0] is not None]
    assert [r[col["Mã đơn vị"]] for r in rows] == [u.code for u in expected]
    for unit, r in zip(expected, rows, strict=True):
        assert r[col["Tên đơn vị"]] == unit.name
        assert r[col["Điện thoại"]] == unit.phone and unit.phone.startswith("0237")
        assert r[col["Email"]] == unit.email
        if status[unit.code] == "missing":
            assert r[col["Tình trạng"]] == "Chưa nộp"
            assert r[col["Hạn nộp"]] == dt.datetime(2021, 1, 20)
            assert r[col["Việc cần nhắc"]] == "Nhắc gửi báo cáo (hạn 20/01/2021)"
        else:
            assert r[col["Tình trạng"]].startswith("Bị trả lại (")
            assert "tệp phản hồi" in r[col["Việc cần nhắc"]]
    ws = book["Cần liên hệ"]
    assert ws.page_setup.paperSize == 9 and ws.print_title_rows
    out = CliRunner().invoke(cli, ["consolidate", str(samples_dir() / "inbox"), "--office",
                                   "TX", "--out", str(tmp_path / "ra2")]).output
    assert f"Cần liên hệ ({len(expected)} đơn vị" in out
    for unit in expected:
        line = next(x for x in out.splitlines() if x.startswith(f"  {unit.code} {unit.name} — "))
        assert f"ĐT {unit.phone}" in line and unit.email in line


def test_the_call_list_of_a_complete_run_says_nobody(tmp_path: Path) -> None:
    campaign = load_campaign("nq02-2020")
    units = load_units(_units_file(tmp_path))
    inbox = tmp_path / "inbox"
    for unit in units.children("TX"):
        write_workbook(inbox / f"{unit.code}.xlsx", campaign, unit_code=unit.code,
                       unit_name=unit.name, values=clean_values())
    result = consolidate(inbox, campaign, units, units.get("TX"))
    paths = write_outputs(result, result.frames, tmp_path / "ra")
    values = [v for r in load_workbook(paths.summary)["Cần liên hệ"].iter_rows(values_only=True)
              for v in r if v]
    assert "Mọi đơn vị đã nộp hợp lệ; không cần liên hệ." in values


def _units_file(tmp_path: Path) -> Path:
    path = tmp_path / "don-vi.csv"
    path.write_text("Mã;Tên đơn vị;Cấp;Đơn vị cấp trên;Email;Điện thoại\n"
                    "TX;Huyện đoàn Thọ Xuân;Huyện;;vp@tx.vn;0237 3000 000\n"
                    "TX01;Đoàn thị trấn Thọ Xuân;Cơ sở;TX;a@tx.vn;0912 000 001\n"
                    "TX02;Đoàn xã Xuân Hồng;Cơ sở;TX;b@tx.vn;\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ item 18: the README


ROOT = Path(__file__).resolve().parent.parent


def test_readme_links_resolve_in_a_clone_and_the_walkthrough_runs_from_the_venv() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)\)", readme)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert "docs/DESIGN.md" in local
    for link in local:
        assert (ROOT / link).exists() and ".." not in link, link
    walkthrough = readme.split("## CLI reference", 1)[0]
    fenced: dict[str, list[str]] = {}
    language = None
    for line in walkthrough.splitlines():
        if line.startswith("```"):
            language = None if language is not None else (line[3:] or "sh")
        elif language is not None:
            fenced.setdefault(language, []).append(line)
    commands = [line for line in fenced["sh"]
                if "toolkit " in line and not line.lstrip().startswith("#")]
    assert commands and all(".venv/bin/toolkit " in line for line in commands), commands
    assert all(line.startswith((".venv\\Scripts\\", "py ")) for line in fenced["bat"])
    guide = walkthrough.split("## Hướng dẫn nhanh", 1)[1]
    prose = re.sub(r"```.*?```", "", guide, flags=re.S)
    assert not re.findall(r"`toolkit [a-z]", prose)  # inline commands run from the venv too


def test_the_contract_in_docs_names_the_csv_columns_as_written() -> None:
    from toolkit.report.outputs import FINDINGS_HEADER, SUBMISSIONS_HEADER, VALUES_HEADER

    design = " ".join((ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8").split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, header in (("values.csv", VALUES_HEADER), ("findings.csv", FINDINGS_HEADER),
                         ("submissions.csv", SUBMISSIONS_HEADER)):
        assert f"`{name}` ({', '.join(header)}" in design, name
        assert f"| `{name}` | {', '.join(header)}" in readme, name
