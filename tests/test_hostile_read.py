"""Inboxes that must not crash a run ("Hardening: no inbox can crash a run"): names that are
not UTF-8, extreme or malformed dates in the manifest and in a workbook's properties, things
in the inbox that are not regular files, folders and manifests that cannot be read, and
names that differ only in Unicode form. Each class is generated several ways and run
through the CLI or the public API on real files; the inbox is hashed before and after."""

from __future__ import annotations

import builtins
import csv
import hashlib
import io
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path
from xml.dom import minidom

import corpus
import pytest
from builders import clean_values, workbook_bytes, write_workbook
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
TX = UNITS.get("TX")
VIETNAMESE = re.compile(r"[ăâđêôơưàáạảãèéẹẻẽìíịỉĩòóọỏõùúụủũỳýỵỷỹ]", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers


def tree(inbox: Path) -> dict[bytes, str]:
    """Every entry under ``inbox`` (bytes names, never followed or opened unless a regular
    file): content hash, link target or file type."""
    seen: dict[bytes, str] = {}
    root = os.fsencode(inbox)
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(here, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    seen[path] = hashlib.sha256(fh.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                seen[path] = "->" + os.fsdecode(os.readlink(path))
            else:
                seen[path] = f"mode {stat.S_IFMT(st.st_mode):o} {st.st_mtime_ns}"
    return seen


def cli(inbox: Path, out: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([sys.executable, "-m", "toolkit.cli", "consolidate", str(inbox),
                          "--out", str(out), "--office", "TX"], capture_output=True,
                         text=True, timeout=timeout, cwd=inbox.parent,
                         env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    return run


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def outputs(out: Path) -> tuple[dict[str, dict[str, str]], dict[str, list[dict[str, str]]]]:
    """submissions.csv by file, findings.csv rows by file."""
    subs = {r["file"]: r for r in read_csv(out / "submissions.csv") if r["file"]}
    found: dict[str, list[dict[str, str]]] = {}
    for row in read_csv(out / "findings.csv"):
        found.setdefault(row["file"], []).append(row)
    return subs, found


def assert_vietnamese(text: str) -> None:
    assert VIETNAMESE.search(text) and text == unicodedata.normalize("NFC", text), text


def cp1258(text: str) -> bytes:
    """``text`` as a Vietnamese Windows program writes it: cp1258, tone marks combining
    where cp1258 has no precomposed letter."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        for k in range(len(decomposed), 0, -1):
            head = unicodedata.normalize("NFC", decomposed[:k])
            try:
                out += head.encode("cp1258") + decomposed[k:].encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            raise ValueError(ch)
    return out


def write_bytes_path(path: bytes, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- 3. names not UTF-8

# (name as bytes, as a run must show it)
FOREIGN_NAMES = [
    (cp1258("Đoàn thị trấn Thọ Xuân.xlsx"), "Đoàn thị trấn Thọ Xuân.xlsx"),
    (cp1258("Báo cáo – Xuân Hồng.xlsx"), "Báo cáo – Xuân Hồng.xlsx"),
    (cp1258("lần 2") + b"/" + cp1258("Hạnh Phúc.xlsx"), "lần 2/Hạnh Phúc.xlsx"),
    (b"TX04 \x81\x8d.xlsx", "TX04 \\x81\\x8d.xlsx"),  # bytes cp1258 has no letter for
]


def test_cp1258_names_are_really_not_utf8():
    for raw, _shown in FOREIGN_NAMES:
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")


def test_names_that_are_not_utf8_are_read_and_named(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    root = os.fsencode(inbox)
    for i, (raw, _shown) in enumerate(FOREIGN_NAMES, start=1):
        path = os.path.join(root, raw)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_bytes_path(path, workbook_bytes(CAMPAIGN, unit_code=f"TX0{i}",
                                              values=clean_values()))
    write_workbook(inbox / "TX05.xlsx", CAMPAIGN, unit_code="TX05", values=clean_values())
    before = tree(inbox)
    run = cli(inbox, out)
    assert tree(inbox) == before
    subs, found = outputs(out)
    for i, (_raw, shown) in enumerate(FOREIGN_NAMES, start=1):
        assert subs[shown]["status"] == "accepted" and subs[shown]["unit_code"] == f"TX0{i}"
        (note,) = [f for f in found[shown] if f["code"] == "name_not_unicode"]
        assert note["message"].startswith(shown) and note["severity"] == "warning"
        assert_vietnamese(note["message"])
        assert shown in run.stdout or "name_not_unicode" not in run.stdout
    assert subs["TX05.xlsx"]["status"] == "accepted" and "TX05.xlsx" not in found
    for path in out.rglob("*"):
        path.name.encode("utf-8")  # every output name is writable as UTF-8
    values = read_csv(out / "values.csv")
    assert {r["unit_code"] for r in values} >= {"TX01", "TX02", "TX03", "TX04"}


def test_a_foreign_name_never_takes_a_real_files_name(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    write_workbook(inbox / "Thọ Xuân.xlsx", CAMPAIGN, unit_code="TX01")
    write_bytes_path(os.path.join(os.fsencode(inbox), cp1258("Thọ Xuân.xlsx")),
                     workbook_bytes(CAMPAIGN, unit_code="TX02"))
    cli(inbox, out)
    subs, _found = outputs(out)
    assert subs["Thọ Xuân.xlsx"]["unit_code"] == "TX01"
    (other,) = [f for f in subs if f != "Thọ Xuân.xlsx"]
    assert subs[other]["unit_code"] == "TX02" and "\\x" in other


# --------------------------------------------------------------------------- 4. manifest dates

BAD_DATES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "garbage",
             "2021-13-45T08:00:00+07:00", "9999-12-31", "0001-01-01"]


def test_extreme_or_malformed_manifest_dates_are_ignored_with_a_warning(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    lines = ["file,sender,date,message_id,subject"]
    names = []
    for i, date in enumerate(BAD_DATES, start=1):
        name = f"TX0{i}.xlsx"
        write_workbook(inbox / name, CAMPAIGN, unit_code=f"TX0{i}", values=clean_values())
        lines.append(f"{name},,{date},<m{i}@b.vn>,Báo cáo")
        names.append(name)
    write_workbook(inbox / "TX07.xlsx", CAMPAIGN, unit_code="TX07", values=clean_values())
    lines.append("TX07.xlsx,,2021-01-20T08:00:00+07:00,<m7@b.vn>,Báo cáo")
    (inbox / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = tree(inbox)
    cli(inbox, out)
    assert tree(inbox) == before
    subs, found = outputs(out)
    for name in names:
        assert subs[name]["status"] == "accepted"
        assert subs[name]["received_at"][:4] not in ("9999", "0001", "")
        (note,) = [f for f in found[name] if f["code"] == "manifest_bad_date"]
        assert_vietnamese(note["message"])
        assert not any(d in note["message"] for d in BAD_DATES)  # nothing copied from it
    assert subs["TX07.xlsx"]["received_at"] == "2021-01-20T08:00:00+07:00"
    assert "TX07.xlsx" not in found


# --------------------------------------------------------------------------- 5. property dates

CORE_DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "not a date",
              "2021-02-30T00:00:00Z", ""]


def _core_modified(text: str):
    def patch(xml: bytes) -> bytes:
        new, n = re.subn(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                         rb"\g<1>" + text.encode() + rb"\g<2>", xml)
        assert n == 1
        return new
    return patch


def test_extreme_core_dates_are_ignored_and_the_file_is_read(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for i, date in enumerate(CORE_DATES, start=1):
        data = workbook_bytes(CAMPAIGN, unit_code=f"TX0{i}", values=clean_values())
        (inbox / f"TX0{i}.xlsx").write_bytes(
            corpus.rezip(data, {"docProps/core.xml": _core_modified(date)}))
    before = tree(inbox)
    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    write_outputs(result, result.frames, out)
    assert tree(inbox) == before
    by_file = {s.file: s for s in result.submissions}
    for i in range(1, len(CORE_DATES) + 1):
        sub = by_file[f"TX0{i}.xlsx"]
        assert sub.status == "accepted" and sub.findings == [], sub.findings
        assert sub.modified_at is None
    values = read_csv(out / "values.csv")
    assert {r["unit_code"] for r in values} == {f"TX0{i}" for i in range(1, 6)}


# --------------------------------------------------------------------------- 7. not regular files


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()


def _device_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _outside_link(path: Path) -> None:
    outside = path.parent.parent / "outside.xlsx"
    outside.write_bytes(workbook_bytes(CAMPAIGN, unit_code="TX03"))
    path.symlink_to(outside)


def _device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pytest.skip("cannot create a device node here")


NOT_REGULAR = {"fifo": _fifo, "socket": _socket, "device-link": _device_link,
               "outside-link": _outside_link, "device": _device}


@pytest.mark.parametrize("kind", sorted(NOT_REGULAR))
def test_things_that_are_not_regular_files_are_skipped_never_opened(tmp_path, kind):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    write_workbook(inbox / "TX01.xlsx", CAMPAIGN, values=clean_values())
    name = f"TX02 {kind}.xlsx"
    NOT_REGULAR[kind](inbox / name)
    (inbox / "lan-2").mkdir()
    if kind != "outside-link":
        NOT_REGULAR[kind](inbox / "lan-2" / "TX04.xlsx")
    NOT_REGULAR[kind](inbox / "manifest.csv")  # the manifest is never waited on either
    before = tree(inbox)
    run = cli(inbox, out, timeout=60)  # a FIFO that is opened would block: the timeout fails
    assert tree(inbox) == before
    subs, _found = outputs(out)
    assert subs["TX01.xlsx"]["status"] == "accepted"
    assert name not in subs and "lan-2/TX04.xlsx" not in subs
    for shown in (name, "lan-2/TX04.xlsx", "manifest.csv"):
        if shown == "lan-2/TX04.xlsx" and kind == "outside-link":
            continue
        (line,) = [ln for ln in run.stdout.splitlines() if shown in ln]
        assert_vietnamese(line)
        assert "không đọc" in line or "không mở" in line, line


# --------------------------------------------------------------------------- 10. unreadable


def _deny(monkeypatch, where: str, inbox: Path) -> None:
    """Simulate chmod 000 (tests run as root): listing or opening ``where`` is refused."""
    target = inbox / where
    if where.endswith("/"):
        real = os.scandir

        def scandir(path=".", *a, **k):
            if os.fspath(path).rstrip("/") == str(target).rstrip("/"):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path, *a, **k)
        monkeypatch.setattr(os, "scandir", scandir)
    else:  # whichever way a reader opens it
        for module, attr in ((os, "open"), (builtins, "open"), (io, "open")):
            real = getattr(module, attr)

            def denied(path, *a, _real=real, **k):
                if isinstance(path, (str, os.PathLike)) and os.fspath(path) == str(target):
                    raise PermissionError(13, "Permission denied", os.fspath(path))
                return _real(path, *a, **k)
            monkeypatch.setattr(module, attr, denied)


@pytest.mark.parametrize("where", ["lan-2/", "lan-2/sau/", "manifest.csv", "TX02.xlsx",
                                   "lan-2/TX03.xlsx"])
def test_what_cannot_be_read_is_reported_never_silently_dropped(tmp_path, monkeypatch, where):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write_workbook(inbox / "TX01.xlsx", CAMPAIGN, values=clean_values())
    write_workbook(inbox / "TX02.xlsx", CAMPAIGN, unit_code="TX02")
    write_workbook(inbox / "lan-2" / "TX03.xlsx", CAMPAIGN, unit_code="TX03")
    write_workbook(inbox / "lan-2" / "sau" / "TX04.xlsx", CAMPAIGN, unit_code="TX04")
    (inbox / "manifest.csv").write_text(
        "file,sender,date,message_id,subject\nTX01.xlsx,,2021-01-20T08:00:00+07:00,"
        "<1@b>,x\n", encoding="utf-8")
    before = tree(inbox)
    monkeypatch.setenv("TOOLKIT_JOBS", "0")
    _deny(monkeypatch, where, inbox)
    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    paths = write_outputs(result, result.frames, out)
    monkeypatch.undo()
    assert tree(inbox) == before
    subs, found = outputs(out)
    name = where.rstrip("/")
    if where.endswith("/") or where == "manifest.csv":
        (why,) = [why for file, why in result.skipped if file == name]
        assert_vietnamese(why)
        assert "không đọc được" in why
        shown = [c.value for ws in load_workbook(paths.summary).worksheets
                 for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert any(name in text for text in shown) and any(why in text for text in shown)
    else:
        assert subs[name]["status"] == "unidentified"
        assert [f["code"] for f in found[name]] == ["file_unreadable"]
        assert_vietnamese(found[name][0]["message"])
    if where == "manifest.csv":
        assert subs["TX01.xlsx"]["received_at"] != "2021-01-20T08:00:00+07:00"
    else:
        assert subs["TX01.xlsx"]["received_at"] == "2021-01-20T08:00:00+07:00"


# --------------------------------------------------------------------------- 11. NFC / NFD


NFC_NFD = ["Xuân Hồng.xlsx", "lần 2/Thọ Lập.xlsx", "Đoàn xã Xuân Tín (bản sửa).xlsx"]


@pytest.mark.parametrize("name", NFC_NFD)
def test_names_differing_only_in_unicode_form_are_two_files(tmp_path, name):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    nfc, nfd = (unicodedata.normalize(f, name) for f in ("NFC", "NFD"))
    assert nfc != nfd
    for path, code, count in ((inbox / nfc, "TX01", 21), (inbox / nfd, "TX02", 22),
                              (inbox / "TX03.xlsx", "TX03", 23)):
        values = clean_values()
        values["PL2"]["-"]["bch_so_luong"] = count
        write_workbook(path, CAMPAIGN, unit_code=code, values=values)
    assert len({p for p in inbox.rglob("*.xlsx")}) == 3
    before = tree(inbox)
    cli(inbox, out)
    assert tree(inbox) == before
    rows = [r for r in read_csv(out / "submissions.csv") if r["file"]]
    # the CSV shows every text NFC, so both files carry the name as every program shows it
    same = sorted((r["unit_code"], r["status"]) for r in rows if r["file"] == nfc)
    assert same == [("TX01", "accepted"), ("TX02", "accepted")]
    notes = [f for f in read_csv(out / "findings.csv") if f["code"] == "same_name_other_form"]
    assert [n["unit_code"] for n in notes] == ["TX02"]  # said on the Mac copy only
    assert_vietnamese(notes[0]["message"])
    counts = {(r["unit_code"], r["value"]) for r in read_csv(out / "values.csv")
              if r["form"] == "PL2" and r["column"] == "bch_so_luong"}
    assert counts == {("TX01", "21"), ("TX02", "22"), ("TX03", "23")}


# --------------------------------------------------------------------------- 15. other writers


def _soffice_ods(xlsx: Path) -> bytes:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = xlsx.parent
    subprocess.run([exe, f"-env:UserInstallation=file://{out / 'profile'}", "--headless",
                    "--convert-to", "ods", "--outdir", str(out), str(xlsx)],
                   check=True, capture_output=True, timeout=180)
    return (out / f"{xlsx.stem}.ods").read_bytes()


def _indented(newline: str, indent: str):
    """content.xml as Gnumeric writes it: one element a line, indented."""
    def patch(xml: bytes) -> bytes:
        pretty = minidom.parseString(xml).toprettyxml(indent=indent, newl=newline,
                                                      encoding="UTF-8")
        assert pretty.count(b"\n") > 100
        return pretty
    return patch


def _garbled(xml: bytes) -> bytes:
    return xml[: len(xml) // 2]


# unit → (content.xml patch, status, finding codes)
OTHER_WRITERS = {
    "TX01": (_indented("\n", "  "), "accepted", set()),
    "TX02": (_indented("\r\n", "\t"), "accepted", set()),
    "TX03": (_indented("\n", ""), "accepted", set()),
    "TX04": (_garbled, "rejected", {"file_unreadable"}),  # values lost, identity not
}


@pytest.mark.libreoffice
def test_ods_from_other_programs_is_read_and_unreadable_values_reject_the_known_unit(
        tmp_path):
    inbox, out, work = tmp_path / "inbox", tmp_path / "out", tmp_path / "work"
    inbox.mkdir()
    for code, (patch, _status, _codes) in OTHER_WRITERS.items():
        src = write_workbook(work / code / f"{code}.xlsx", CAMPAIGN, unit_code=code,
                             values=clean_values())
        (inbox / f"{code}.ods").write_bytes(corpus.rezip(_soffice_ods(src),
                                                         {"content.xml": patch}))
    write_workbook(inbox / "TX05.xlsx", CAMPAIGN, unit_code="TX05", values=clean_values())
    broken = corpus.rezip(workbook_bytes(CAMPAIGN, unit_code="TX06", values=clean_values()),
                          {"xl/styles.xml": b"<<<"})  # calamine refuses, custom.xml intact
    (inbox / "TX06.xlsx").write_bytes(broken)
    before = tree(inbox)
    cli(inbox, out)
    assert tree(inbox) == before
    subs, found = outputs(out)
    expected = {f"{code}.ods": (code, status, codes)
                for code, (_patch, status, codes) in OTHER_WRITERS.items()}
    expected["TX06.xlsx"] = ("TX06", "rejected", {"file_unreadable"})
    for name, (code, status, codes) in expected.items():
        assert (subs[name]["unit_code"], subs[name]["status"]) == (code, status), name
        assert {f["code"] for f in found.get(name, [])} == codes, found.get(name)
        for f in found.get(name, []):
            assert_vietnamese(f["message"])
    values = read_csv(out / "values.csv")
    by_unit: dict[str, set[tuple[str, str, str, str]]] = {}
    for r in values:
        by_unit.setdefault(r["unit_code"], set()).add(
            (r["form"], r["row"], r["column"], r["value"]))
    for code in ("TX01", "TX02", "TX03"):
        assert by_unit[code] == by_unit["TX05"], code  # every value, as from the .xlsx
    assert "TX04" not in by_unit and "TX06" not in by_unit


@pytest.mark.parametrize("offset", ["+07:00", "+00:00", "-05:00", "+14:00"])
def test_a_sane_manifest_date_keeps_the_senders_own_offset(tmp_path, offset):
    """received_at in submissions.csv is the mail's Date as written (same instant, same
    offset), not converted: the contract's column keeps its form."""
    inbox = tmp_path / "inbox"
    shutil.copytree(samples_dir() / "inbox", inbox)
    path = inbox / "manifest.csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["date"] = row["date"][:19] + offset
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    expected = {row["file"]: row["date"] for row in rows}
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "toolkit.cli", "consolidate", str(inbox),
                          "--office", "TX", "--out", str(out)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    with open(out / "submissions.csv", encoding="utf-8-sig", newline="") as f:
        got = {r["file"]: r["received_at"] for r in csv.DictReader(f) if r["file"]}
    shown = {name: got[name] for name in expected if name in got}
    assert shown and shown == {name: expected[name] for name in shown}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1,
                        max_size=12).filter(lambda t: "/" not in t), min_size=1, max_size=3),
       st.lists(st.binary(min_size=1, max_size=6).filter(lambda b: b"/" not in b),
                max_size=2))
def test_shown_names_are_printable_and_keep_plain_names(parts, raw_parts):
    """A name read from the disk is shown as it is when it is UTF-8 without control
    characters; otherwise every part comes out printable, with the name marked foreign
    when some bytes were not UTF-8."""
    from toolkit.read.ingest import shown_name

    rel = "/".join([*parts, *(os.fsdecode(b) for b in raw_parts)])
    shown, foreign = shown_name(rel)
    plain = all(_utf8(os.fsencode(p)) for p in rel.split("/"))
    assert foreign == (not plain)
    if plain and not re.search(r"[\x00-\x1f\x7f]", rel):
        assert shown == rel
    assert not re.search(r"[\x00-\x1f\x7f]", shown)
    assert shown.encode("utf-8")  # printable: no lone surrogate left
    assert shown.count("/") == rel.count("/")


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
