"""No output passes a payload on: what a unit mailed in never comes back out live.

Every test builds real files, runs the public API or the CLI, and opens the outputs it
wrote: formulas a unit typed are text or values in its feedback (#2), a file refused as
unsafe gets a fresh feedback workbook that copies nothing of it and is made within the
ingest limits (#1), a damaged deflate stream still gets feedback (#8), long text is cut
with a warning (#14), names stay within the file system's limits (#6), ``--out`` inside
the inbox is refused (#12), a full disk is one Vietnamese line (#9)."""

from __future__ import annotations

import hashlib
import io
import random
import re
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import corpus
import openpyxl
import pytest
from builders import workbook_bytes

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.report.feedback import FEEDBACK_SHEET, feedback_or_reason
from toolkit.report.feedback.lines import finding_lines, heading
from toolkit.report.feedback.xml_patch import annotate
from toolkit.report.outputs import write_outputs
from toolkit.spec.findings import make_finding
from toolkit.spec.load import load_campaign
from toolkit.spec.models import Submission
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
TX = UNITS.get("TX")
TX01 = UNITS.get("TX01")
MB = 1 << 20

_F = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_C = re.compile(r'<c\b[^>]*?\br="([A-Z]+\d+)"[^>]*?(?<!/)>(.*?)</c>', re.S)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def sheet_parts(data: bytes) -> dict[str, str]:
    """Worksheet part → sheet name."""
    parts = members(data)
    book = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    targets = dict(re.findall(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(
        r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<sheet\b[^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', book):
        target = targets[rid].lstrip("/")
        out[target if target.startswith("xl/") else "xl/" + target] = name
    return out


def formulas(data: bytes) -> set[tuple[str, str, str]]:
    """(sheet, cell, formula text) of every formula cell of a workbook; any ``<f>`` outside
    a listed sheet counts too (sheet ``?``)."""
    names = sheet_parts(data)
    found = set()
    for part, body in members(data).items():
        text = body.decode("utf-8", "replace")
        for ref, inner in _C.findall(text):
            m = _F.search(inner)
            if m is not None:
                found.add((names.get(part, "?"), ref, m.group(1) or ""))
        if part not in names and _F.search(text):
            found.add(("?", part, "<f>"))
    return found


def output_workbooks(out: Path) -> list[Path]:
    return sorted(out.rglob("*.xlsx"))


# --------------------------------------------------------------------------- #2 formulas


PAYLOADS = ['HYPERLINK("http://x","y")', "cmd|' /C calc'!A0", "1+1", "@SUM(1)",
            "SUM(B14:C14)"]  # the last has the toolkit's own shape, but sits in an input cell
INPUTS = [("PL2", "-", "bt_so_luong"), ("PL4", "2016", "ghi_chu"), ("PL5", "-",
                                                                    "tap_hop_so_nguoi")]


def _with_formulas(payloads: dict[tuple[str, str, str], str], suffix: str) -> bytes:
    template = template_bytes(CAMPAIGN, TX01, TX)
    filled = fill_workbook(template, sample_values(CAMPAIGN, random.Random(2), list_rows=2))
    book = openpyxl.load_workbook(io.BytesIO(filled), keep_vba=suffix == ".xlsm")
    from toolkit.spec.meta import META_SHEET, parse_meta

    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    where = {(c.form, c.row, c.column): (c.sheet, c.cell) for c in meta.cells}
    for key, formula in payloads.items():
        sheet, cell = where[key]
        book[sheet][cell].value = "=" + formula
        book[sheet][cell].data_type = "f"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])  # XML patch path; openpyxl path
@pytest.mark.parametrize("payload", PAYLOADS)
def test_formulas_a_unit_typed_never_come_back_live(tmp_path, payload, suffix):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    data = _with_formulas({key: payload for key in INPUTS}, suffix)
    (inbox / f"TX01{suffix}").write_bytes(data)
    assert {f[2] for f in formulas(data)} >= {payload}
    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    sub = result.submissions[0]
    assert sum(f.code == "formula_in_input" for f in sub.findings) == len(INPUTS)
    paths = write_outputs(result, result.frames, out)
    assert paths.feedback and not paths.feedback_failed
    own = formulas(template_bytes(CAMPAIGN, TX01, TX))
    assert own, "the template has formulas of its own"
    for path in output_workbooks(out):
        written = formulas(path.read_bytes())
        assert not any(payload in text for _s, _c, text in written), (path.name, written)
        if path in paths.feedback:
            assert written <= own, (path.name, written - own)
    feedback = openpyxl.load_workbook(paths.feedback[0])
    texts = [c.value for ws in feedback.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert not any(t.startswith("=") and payload in t and c_is_formula(feedback, t)
                   for t in texts)


def c_is_formula(book: openpyxl.Workbook, text: str) -> bool:
    return any(c.value == text and c.data_type == "f" for ws in book.worksheets
               for row in ws.iter_rows() for c in row)


# --------------------------------------------------------------------------- #1 refused files


def _hostile_inbox(inbox: Path) -> None:
    inbox.mkdir(parents=True)
    (inbox / "bom-khai.xlsx").write_bytes(corpus.zip_bomb(CAMPAIGN))  # declares 2 GB
    (inbox / "bom-noi-doi.xlsx").write_bytes(
        corpus.zip_bomb(CAMPAIGN, 1 << 30, declared=40_000))  # lies: 40 KB
    base = workbook_bytes(CAMPAIGN, values={"PL4": {"2016": {"ghi_chu": "xin chào"}}})
    (inbox / "cuoi.xlsx").write_bytes(corpus.rezip(base, {
        "xl/sharedStrings.xml": corpus.with_dtd(corpus.BILLION_LAUGHS, b"&lol9;")}))
    (inbox / "xxe.xlsx").write_bytes(corpus.rezip(base, {
        "xl/sharedStrings.xml": corpus.with_dtd(corpus.EXTERNAL_ENTITY, b"&xxe;")}))
    (inbox / "xxe-trang.xlsx").write_bytes(corpus.rezip(base, {
        corpus.sheet_member(base, "PL4"): corpus.with_dtd(corpus.EXTERNAL_ENTITY, b"&xxe;")}))
    (inbox / "xxe-thuoc-tinh.xlsx").write_bytes(corpus.rezip(base, {
        "docProps/custom.xml": corpus.with_dtd(corpus.EXTERNAL_ENTITY, b"&xxe;")}))


def _inflated_sizes(data: bytes, cap: int) -> dict[str, int]:
    """Each member's real inflated size, counted in 1 MB steps and stopped past ``cap``."""
    sizes = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            total = 0
            with zf.open(info) as fh:
                while chunk := fh.read(MB):
                    total += len(chunk)
                    if total > cap:
                        break
            sizes[info.filename] = total
    return sizes


def test_outputs_of_a_hostile_inbox_hold_no_dtd_and_no_bomb(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    _hostile_inbox(inbox)
    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    assert len(result.submissions) == 6
    assert all(s.status == "unidentified" and s.findings for s in result.submissions)
    paths = write_outputs(result, result.frames, out)
    assert len(paths.feedback) == 6 and not paths.feedback_failed
    for path in output_workbooks(out):
        data = path.read_bytes()
        for name, size in _inflated_sizes(data, 50 * MB).items():
            assert size <= 50 * MB, (path.name, name)
        for name, body in members(data).items():
            assert b"<!DOCTYPE" not in body and b"<!ENTITY" not in body, (path.name, name)
            assert b"&xxe;" not in body and b"&lol" not in body, (path.name, name)
    for path in paths.feedback:  # a fresh list, nothing of the refused file
        assert openpyxl.load_workbook(path).sheetnames == [FEEDBACK_SHEET]


def _refused_without_finding(tmp_path: Path, data: bytes) -> Submission:
    """A file the guard refuses, as if ingest had not said so (changed after reading, or a
    caller building Submissions itself): the feedback writer must guard on its own."""
    path = tmp_path / "TX01.xlsx"
    path.write_bytes(data)
    finding = make_finding("negative", file=path.name, unit_code="TX01", form="PL2",
                           cell="B14", column="bt_so_luong", value="-1", label="Số lượng")
    return Submission(file=path.name, path=path, sha256=hashlib.sha256(data).hexdigest(),
                      size=len(data), identity={"campaign": CAMPAIGN.id, "unit_code": "TX01",
                                                    "kind": "template"},
                      findings=[finding], status="rejected")


@pytest.mark.parametrize("make", [
    lambda: corpus.zip_bomb(CAMPAIGN, 1 << 30, declared=40_000),
    lambda: corpus.zip_bomb(CAMPAIGN),
    lambda: corpus.rezip(workbook_bytes(CAMPAIGN), {
        "xl/sharedStrings.xml": corpus.with_dtd(corpus.BILLION_LAUGHS, b"&lol9;")}),
    lambda: corpus.rezip(workbook_bytes(CAMPAIGN), {
        "docProps/core.xml": corpus.with_dtd(corpus.EXTERNAL_ENTITY, b"&xxe;")}),
], ids=["bomb-lying", "bomb-declared", "billion-laughs", "external-entity"])
def test_the_feedback_writer_guards_what_it_inflates(tmp_path, make):
    data = make()
    sub = _refused_without_finding(tmp_path, data)
    feedback = feedback_or_reason(sub, CAMPAIGN)
    assert isinstance(feedback, bytes)
    assert openpyxl.load_workbook(io.BytesIO(feedback)).sheetnames == [FEEDBACK_SHEET]
    assert b"<!DOCTYPE" not in b"".join(members(feedback).values())


def test_memory_of_consolidate_with_a_zip_bomb_stays_bounded(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    _hostile_inbox(inbox)
    (inbox / "bom-4g.xlsx").write_bytes(corpus.zip_bomb(CAMPAIGN, 4 << 30, declared=1000))
    script = textwrap.dedent(f"""
        import resource, subprocess, sys
        run = subprocess.run([sys.executable, "-m", "toolkit.cli", "consolidate",
                              {str(inbox)!r}, "--office", "TX", "--out", {str(out)!r}],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=360)
    assert done.returncode == 0, done.stderr
    peak_mb = int(done.stdout.split()[-1]) / 1024
    assert peak_mb <= 600, f"consolidate peaked at {peak_mb:.0f} MB"
    assert len(list((out / "feedback").glob("*.xlsx"))) == 7


# --------------------------------------------------------------------------- #8 damaged streams


def _damaged(data: bytes, member: str) -> bytes:
    """``data`` with ``member``'s deflate stream starting with a reserved block type."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    head = data[info.header_offset:info.header_offset + 30]
    start = info.header_offset + 30 + int.from_bytes(head[26:28], "little") + int.from_bytes(
        head[28:30], "little")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    return data[:start] + b"\x07" + data[start + 1:]


DAMAGED = ["sheet:PL2", "sheet:PL4", "xl/sharedStrings.xml", "xl/styles.xml"]


@pytest.mark.parametrize("member", DAMAGED)
def test_a_damaged_deflate_stream_still_gets_feedback(tmp_path, member):
    base = workbook_bytes(CAMPAIGN, values={"PL2": {"-": {"bt_so_luong": -1}},
                                            "PL4": {"2016": {"ghi_chu": "xin chào"}}})
    if member.startswith("sheet:"):
        member = corpus.sheet_member(base, member[6:])
    data = _damaged(base, member)
    with zipfile.ZipFile(io.BytesIO(data)) as zf, pytest.raises(zlib.error):
        zf.read(member)
    sub = _refused_without_finding(tmp_path, data)
    lines = finding_lines(sub, CAMPAIGN)
    assert annotate(data, lambda m: heading(sub, CAMPAIGN, m), lines) is None
    feedback = feedback_or_reason(sub, CAMPAIGN)
    assert isinstance(feedback, bytes)
    assert openpyxl.load_workbook(io.BytesIO(feedback)).sheetnames == [FEEDBACK_SHEET]
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "TX01.xlsx").write_bytes(data)
    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    paths = write_outputs(result, result.frames, out)
    assert len(paths.feedback) == 1 and not paths.feedback_failed


# --------------------------------------------------------------------------- #14 long text


def _read_csv(path: Path) -> list[dict[str, str]]:
    import csv

    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _long_texts(texts: dict[tuple[str, str, str], str], unit: str = "TX01") -> bytes:
    """A filled template whose cells ``texts`` hold longer text than Excel or openpyxl
    would write (the XML is edited, as a hostile program would)."""
    values = sample_values(CAMPAIGN, random.Random(1), list_rows=1)
    markers = {}
    for i, (key, text) in enumerate(texts.items()):
        values[key] = f"MARKER-{i}-END"
        markers[f"MARKER-{i}-END".encode()] = text.encode()
    data = fill_workbook(template_bytes(CAMPAIGN, UNITS.get(unit), TX), values)

    def put(body: bytes) -> bytes:
        for marker, text in markers.items():
            body = body.replace(marker, text)
        return body

    return corpus.rezip(data, {n: put for n, b in members(data).items() if b"MARKER-" in b})


@pytest.mark.parametrize("length", [32_768, 40_000, 100_000])
def test_text_longer_than_a_cell_is_a_warning_and_messages_quote_a_prefix(tmp_path, length):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    text = "Ghi chú dài " + "ấ" * length
    (inbox / "TX01.xlsx").write_bytes(_long_texts({("PL4", "2016", "ghi_chu"): text}))
    (inbox / "TX02.xlsx").write_bytes(_long_texts({("PL1", "1", "loai_van_ban"): "y" * length},
                                                  "TX02"))
    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    paths = write_outputs(result, result.frames, out)
    assert [r["value"] for r in _read_csv(paths.values_csv) if r["column"] == "ghi_chu"
            and r["row"] == "2016" and r["unit_code"] == "TX01"] == [text]
    findings = _read_csv(paths.findings_csv)
    cut = [f for f in findings if f["code"] == "text_truncated"]
    assert len(cut) == 1 and cut[0]["severity"] == "warning" and cut[0]["form"] == "PL4"
    assert "«Ghi chú dài " + "ấ" * 48 + "…»" in cut[0]["message"]
    for f in findings:
        assert len(f["message"]) < 600, (f["code"], len(f["message"]))
        assert "y" * 61 not in f["message"] and "ấ" * 61 not in f["message"]
    book = openpyxl.load_workbook(paths.summary)
    longest = max(len(c.value) for ws in book.worksheets for row in ws.iter_rows()
                  for c in row if isinstance(c.value, str))
    assert longest <= 32_767
    feedback = {p.name.split("_")[0]: openpyxl.load_workbook(p) for p in paths.feedback}
    assert set(feedback) == {"TX01", "TX02"}  # the accepted unit is told too
    for book in feedback.values():
        rows = list(book[FEEDBACK_SHEET].iter_rows(values_only=True))
        assert all(len(str(v)) <= 32_767 for row in rows for v in row if v is not None)


# --------------------------------------------------------------------------- #6 long names


LONG_STEMS = ["ấ" * 74 + "a",  # 223 bytes + ".xlsx": a legal inbox name
              "ấ" * 74 + "b",  # the same once cut: the hash keeps them apart
              "Báo cáo " + "x" * 240,
              "ư" * 80]


def test_output_names_stay_within_255_bytes(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for stem in LONG_STEMS:
        (inbox / f"{stem}.xlsx").write_bytes(b"not a workbook")
        assert len(f"{stem}.xlsx".encode()) <= 255
    for i, code in enumerate(["X" * 3000, "X" * 3000 + "Y", "Đ" * 1000]):
        (inbox / f"ma-dai-{i}.xlsx").write_bytes(workbook_bytes(CAMPAIGN, unit_code=code,
                                                                 properties=False))
    result = consolidate(inbox, CAMPAIGN, UNITS, TX)
    paths = write_outputs(result, result.frames, out)
    expected = [s for s in result.submissions if s.findings]
    assert len(paths.feedback) == len(expected) == 7 and not paths.feedback_failed
    names = [p.name for p in out.rglob("*")]
    assert all(len(n.encode()) <= 255 for n in names), [n for n in names if len(n) > 255]
    assert len({n.casefold() for n in names}) == len(names)
    again = write_outputs(result, result.frames, out)  # a rerun replaces, never adds
    assert sorted(again.feedback) == sorted(paths.feedback)
    assert len(list((paths.folder / "feedback").iterdir())) == 7


# --------------------------------------------------------------------------- #12 --out in inbox


def _inbox_with_files(inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "TX01.xlsx").write_bytes(workbook_bytes(
        CAMPAIGN, values={"PL2": {"-": {"bt_so_luong": -1}}}))
    (inbox / "rac.xlsx").write_bytes(b"not a workbook")


def _cli(*args: str):
    from click.testing import CliRunner

    from toolkit.cli import cli

    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("out", ["{inbox}", "{inbox}/ket-qua", "{inbox}/a/b/../ket-qua",
                                 "{inbox}/.", "{parent}/lien-ket"])
def test_out_inside_the_inbox_is_refused(tmp_path, out):
    inbox = tmp_path / "hop-thu"
    _inbox_with_files(inbox)
    (tmp_path / "lien-ket").symlink_to(inbox / "sub", target_is_directory=True)
    (inbox / "sub").mkdir()
    before = sorted(p.relative_to(inbox) for p in inbox.rglob("*"))
    folder = out.format(inbox=inbox, parent=tmp_path)
    result = _cli("consolidate", str(inbox), "--office", "TX", "--out", folder)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: ") and "hộp thư" in lines[0]
    assert "Traceback" not in result.output
    assert sorted(p.relative_to(inbox) for p in inbox.rglob("*")) == before


@pytest.mark.parametrize("inside", ["feedback", "hop-thu", "a/b"])
def test_inbox_inside_out_is_refused(tmp_path, inside):
    """``--out`` is the run's set, switched away whole by the next run: an inbox inside it
    would go with it (and feedback/ would be read back as submissions)."""
    out = tmp_path / "ket-qua"
    _inbox_with_files(out / inside)
    result = _cli("consolidate", str(out / inside), "--office", "TX", "--out", str(out))
    assert result.exit_code == 1 and "hộp thư" in result.output


def test_out_beside_the_inbox_is_fine(tmp_path):
    inbox = tmp_path / "hop-thu"
    _inbox_with_files(inbox)
    result = _cli("consolidate", str(inbox), "--office", "TX", "--out",
                  str(tmp_path / "hop-thu-ket-qua"))
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- #9 disk full


@pytest.mark.parametrize("fail_at", [1, 3, 4, 6])  # values, submissions, feedback, summary
@pytest.mark.parametrize("code", ["ENOSPC", "EDQUOT"])
def test_a_full_disk_is_one_vietnamese_line_and_keeps_the_previous_outputs(
        tmp_path, monkeypatch, fail_at, code):
    import errno
    import os

    from toolkit._infra import atomic

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    _inbox_with_files(inbox)
    first = _cli("consolidate", str(inbox), "--office", "TX", "--out", str(out))
    assert first.exit_code == 0, first.output
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (inbox / "TX01.xlsx").write_bytes(workbook_bytes(
        CAMPAIGN, values={"PL2": {"-": {"bt_so_luong": -2}}}))  # the rerun has news
    real, calls = atomic.write_file, []

    def full(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == fail_at:
            real(path, data[: len(data) // 2])
            raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))
        real(path, data)

    monkeypatch.setattr(atomic, "write_file", full)
    result = _cli("consolidate", str(inbox), "--office", "TX", "--out", str(out))
    assert len(calls) >= fail_at
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: Không ghi được"), lines
    assert "Traceback" not in result.output and "Errno" not in result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
