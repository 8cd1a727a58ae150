"""Outputs as one set (issue 13 item 13): a run killed with SIGKILL at every step of the
output switch leaves the complete previous set or the complete new one, read back value by
value against each run's own inbox; the clerk's files survive every kill; a second office
writing into the same --out keeps the first office's feedback.

Linux only: the switch relies on ``renameat2(RENAME_EXCHANGE)`` and POSIX rename; the
fallback of two renames (Windows, file systems without exchange) is tested through the next
run's recovery.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from builders import clean_values, write_workbook
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from toolkit._infra import setswap
from toolkit._infra.paths import samples_dir
from toolkit.history.store import HISTORY_NAME
from toolkit.pipeline import CACHE_NAME
from toolkit.spec.load import load_campaign
from toolkit.spec.units import load_units

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="rename semantics and SIGKILL: Linux")

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")
SET = "ket-qua"  # consolidate --out ROOT/ket-qua: the set; ROOT/.truoc/ket-qua the previous one
MANIFEST = ".toolkit-ket-qua.json"
# run r: TX01 reports bch_so_luong = 20 + r (accepted), BAD[r] sends a negative count
BAD = {1: "TX02", 2: "TX03", 3: "TX04"}
CLERK = {  # the clerk's own files: beside --out, inside it, inside its feedback folder
    "ghi-chu.txt": b"ghi chu cua van phong",
    "mail/sent-log.jsonl": b'{"key": "x"}\n',
    f"{SET}/cua-toi.txt": "bản của tôi".encode(),
    f"{SET}/feedback/ghi-chu-phan-hoi.docx": b"PK not really a docx",
}

_HARNESS = """
import os, signal, sys
from toolkit._infra import setswap

kill_at, log = int(os.environ["KILL_AT"]), os.environ["STEP_LOG"]
count = [0]

def step(fn):
    def run(*args, **kwargs):
        count[0] += 1
        with open(log, "a") as fh:
            fh.write(fn.__name__ + "\\n")
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return fn(*args, **kwargs)
    return run

for name in ("_rename", "_exchange", "_prune"):
    setattr(setswap, name, step(getattr(setswap, name)))
if os.environ.get("NO_EXCHANGE"):  # a system without an atomic exchange (Windows)
    def _exchange(a, b):
        return False
    setswap._exchange = step(_exchange)
from toolkit.cli import main
sys.argv = ["toolkit", "consolidate", sys.argv[1], "--out", sys.argv[2], "--office", "TX",
            "--units", sys.argv[3]]
main()
"""


def make_inbox(folder: Path, run: int) -> Path:
    values = clean_values()
    values["PL2"]["-"]["bch_so_luong"] = 20 + run
    write_workbook(folder / "TX01.xlsx", CAMPAIGN, values=values)
    bad = clean_values()
    bad["PL2"]["-"]["bt_so_luong"] = -run
    code = BAD[run]
    write_workbook(folder / f"{code}.xlsx", CAMPAIGN, unit_code=code,
                   unit_name=UNITS.get(code).name, values=bad)
    return folder


def consolidate(inbox: Path, out: Path, office: str = "TX") -> subprocess.CompletedProcess:
    """consolidate --out out/SET: ``out`` is the folder that holds the set and .truoc/."""
    done = subprocess.run([sys.executable, "-m", "toolkit.cli", "consolidate", str(inbox),
                           "--out", str(out / SET), "--office", office,
                           "--units", str(samples_dir() / "units.csv")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the read cache kept beside a set (not an output)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(CACHE_NAME)}


def run_of(folder: Path) -> int:
    """Which run's set ``folder`` holds, checking that every file belongs to that run: the
    manifest (complete, every listed file with its sha256), values.csv, submissions.csv,
    the feedback workbooks and the summary's total, all against the run's own inbox."""
    manifest = setswap.read_manifest(folder)
    assert manifest is not None and manifest.state == "complete", folder
    for rel, digest in manifest.files.items():
        assert sha(folder / rel) == digest, rel
    mine = set(manifest.files) | set(manifest.carried.values()) | {MANIFEST}
    clerks = {rel.removeprefix(f"{SET}/") for rel in CLERK if rel.startswith(f"{SET}/")}
    assert mine <= set(files(folder)) <= mine | clerks, set(files(folder)) ^ mine
    values = read_csv(folder / "values.csv")
    (bch,) = [r["value"] for r in values if r["unit_code"] == "TX01"
              and r["form"] == "PL2" and r["column"] == "bch_so_luong"]
    run = int(bch) - 20
    assert run in BAD, bch
    statuses = {r["unit_code"]: r["status"] for r in read_csv(folder / "submissions.csv")
                if r["status"] != "missing"}
    assert statuses == {"TX01": "accepted", BAD[run]: "rejected"}
    assert {r["unit_code"] for r in read_csv(folder / "findings.csv")} == {BAD[run]}
    feedback = sorted(p.name for p in (folder / "feedback").glob("*_phan-hoi.xlsx"))
    assert feedback == [f"{BAD[run]}_nq02-2020_phan-hoi.xlsx"]
    book = openpyxl.load_workbook(folder / "feedback" / feedback[0])
    listed = {str(c) for row in book["Lỗi cần sửa"].iter_rows(values_only=True) for c in row}
    assert str(-run) in listed
    summary = CalamineWorkbook.from_path(str(folder / "tong-hop_nq02-2020_TX.xlsx"))
    meta = summary.get_sheet_by_name("_meta").to_python()
    (cell,) = [r[4] for r in meta if r[0] == "PL2" and r[3] == "bch_so_luong"]
    sheet = summary.get_sheet_by_name("PL2").to_python()
    col = ord(cell[0]) - ord("A")
    assert sheet[int(cell[1:]) - 1][col] == 20 + run  # the office's total: TX01 alone
    return run


def assert_clerk_files(out: Path) -> None:
    for rel, data in CLERK.items():
        assert (out / rel).read_bytes() == data, rel


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """``out`` after run 1 and run 2 (so it holds a current set and a previous one), with
    the clerk's files in it; and the inbox of run 3."""
    root = tmp_path_factory.mktemp("set")
    out = root / "out"
    consolidate(make_inbox(root / "inbox-1", 1), out)
    for rel, data in CLERK.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    consolidate(make_inbox(root / "inbox-2", 2), out)
    assert run_of(out / SET) == 2 and run_of(out / ".truoc" / SET) == 1
    return out, make_inbox(root / "inbox-3", 3)


def killed_run(base: Path, inbox: Path, work: Path, kill_at: int, exchange: bool
               ) -> tuple[Path, list[str], int]:
    """A copy of ``base`` and a consolidate into it killed before switch step ``kill_at``
    (0: never); returns the folder, the steps reached and the exit code."""
    out = work / "out"
    shutil.copytree(base, out, symlinks=True)
    harness, log = work / "harness.py", work / "steps.log"
    harness.write_text(_HARNESS, encoding="utf-8")
    env = {**os.environ, "KILL_AT": str(kill_at), "STEP_LOG": str(log)}
    if not exchange:
        env["NO_EXCHANGE"] = "1"
    done = subprocess.run([sys.executable, str(harness), str(inbox), str(out / SET),
                           str(samples_dir() / "units.csv")], env=env,
                          capture_output=True, text=True, timeout=300)
    steps = log.read_text().split() if log.exists() else []
    return out, steps, done.returncode


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_kill_at_every_step_of_the_switch_leaves_one_whole_set(two_runs, tmp_path,
                                                                 exchange):
    base, inbox = two_runs
    out, steps, code = killed_run(base, inbox, tmp_path / "all", 0, exchange)
    assert code == 0
    expected = ["_rename", "_exchange", "_rename", "_prune"]
    assert steps == (expected if exchange else [*expected[:3], "_rename", "_prune"])
    assert run_of(out / SET) == 3 and run_of(out / ".truoc" / SET) == 2
    assert_clerk_files(out)
    seen = set()
    last_old = 2 if exchange else 3  # killed before this step or an earlier one: old set
    for k in range(1, len(steps) + 1):
        out, reached, code = killed_run(base, inbox, tmp_path / f"k{k}", k, exchange)
        assert code == -signal.SIGKILL and len(reached) == k, (k, reached)
        if exchange or k != 4:  # two renames: between them the set is away
            run = run_of(out / SET)  # whole, as it is right after the kill
            assert run == (2 if k <= last_old else 3), (k, run)
            assert_clerk_files(out)
        else:
            assert not (out / SET).exists()
            assert run_of(out / ".truoc" / SET) == 2
        # the next run starts by putting things right: one whole current set, the one
        # before it kept, nothing half-done left, every file of the clerk still there
        setswap.recover(out, SET)
        run = run_of(out / SET)
        seen.add(run)
        assert run == (2 if k <= last_old else 3), (k, run)
        previous = out / ".truoc" / SET
        if previous.exists():
            assert run_of(previous) == run - 1, k
        else:  # killed after the oldest set went and before the switch
            assert 1 < k <= last_old
        assert_clerk_files(out)
        assert {p.name for p in out.iterdir()
                if not p.name.startswith((CACHE_NAME, HISTORY_NAME))} == {
            ".truoc", "ghi-chu.txt", "mail", SET}
        assert [p.name for p in (out / ".truoc").iterdir()] in ([SET], [])
    assert seen == {2, 3}


def test_a_killed_run_is_finished_by_the_next_one(two_runs, tmp_path):
    """Killed right after the exchange: the next complete run ends with its own set, the
    previous one under .truoc, and the clerk's files."""
    base, inbox = two_runs
    out, _, code = killed_run(base, inbox, tmp_path / "k", 3, exchange=True)
    assert code == -signal.SIGKILL
    assert [p.name for p in out.iterdir() if p.name.startswith(".tmp-")]
    consolidate(inbox, out)
    assert run_of(out / SET) == 3 and run_of(out / ".truoc" / SET) == 3
    assert not [p for p in out.iterdir() if p.name.startswith((".tmp-", ".xoa-"))]
    assert_clerk_files(out)


def test_an_edited_summary_is_kept_under_another_name(two_runs, tmp_path):
    base, inbox = two_runs
    out = tmp_path / "out"
    shutil.copytree(base, out, symlinks=True)
    summary = out / SET / "tong-hop_nq02-2020_TX.xlsx"
    summary.write_bytes(b"the clerk typed a note into it")
    (out / SET / "~$tong-hop_nq02-2020_TX.xlsx").write_bytes(b"Excel's lock")
    consolidate(inbox, out)
    assert run_of(out / SET) == 3
    kept = out / SET / "tong-hop_nq02-2020_TX_giu-lai.xlsx"
    assert kept.read_bytes() == b"the clerk typed a note into it"
    assert not (out / SET / "~$tong-hop_nq02-2020_TX.xlsx").exists()
    consolidate(inbox, out)  # and again: still there, never a second copy
    assert kept.read_bytes() == b"the clerk typed a note into it"
    assert not list((out / SET).glob("*_giu-lai-2*"))
    assert_clerk_files(out)


# --------------------------------------------------------------------------- another office


def ts_inbox(folder: Path) -> Path:
    bad = clean_values()
    bad["PL2"]["-"]["bt_so_luong"] = -7
    write_workbook(folder / "TS02.xlsx", CAMPAIGN, unit_code="TS02",
                   unit_name=UNITS.get("TS02").name, values=bad)
    write_workbook(folder / "TS01.xlsx", CAMPAIGN, unit_code="TS01",
                   unit_name=UNITS.get("TS01").name, values=clean_values())
    return folder


def test_a_second_office_into_the_same_out_is_refused_and_changes_nothing(tmp_path):
    """--out is one office's set of one campaign (the contract's place for the CSVs): another
    office's run into it is refused with a line naming both offices, nothing is changed;
    into a folder of its own it runs, and mail send-feedback finds each office's feedback."""
    from toolkit.cli import cli

    out = tmp_path / "out"
    consolidate(make_inbox(tmp_path / "tx", 1), out)
    before = files(out)
    result = CliRunner().invoke(cli, ["consolidate", str(ts_inbox(tmp_path / "ts")), "--out",
                                      str(out / SET), "--office", "TS"])
    assert result.exit_code == 1, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Lỗi: ") and "(TX)" in line and "(TS)" in line and "--out" in line
    assert files(out) == before  # Thọ Xuân's run untouched
    ts_root = tmp_path / "trieu-son"
    consolidate(tmp_path / "ts", ts_root, office="TS")
    ts = ts_root / SET
    assert sorted(p.name for p in (ts / "feedback").iterdir()) == ["TS02_nq02-2020_phan-hoi.xlsx"]
    assert {r["unit_code"]: r["status"] for r in read_csv(ts / "submissions.csv")
            if r["status"] != "missing"} == {"TS01": "accepted", "TS02": "rejected"}
    env = {"TOOLKIT_MAIL_FROM": "vanphong@example.vn"}
    for office, unit, root in (("TX", "TX02", out), ("TS", "TS02", ts_root)):
        mail = tmp_path / f"mail-{office}"
        result = CliRunner().invoke(cli, ["mail", "send-feedback", "--office", office,
                                          "--results", str(root / SET), "--dry-run", "--out",
                                          str(mail), "--today", "2021-01-21"], env=env)
        assert result.exit_code == 0, result.output
        (eml,) = list(mail.rglob("*.eml"))
        assert f"{unit}_nq02-2020_phan-hoi.xlsx" in eml.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the switch alone


def _publish(out: Path, contents: dict[str, bytes]) -> setswap.Published:
    identity = {"campaign": "c", "office": "o", "office_name": "O"}
    staging = setswap.start(out, "c_o", identity)
    for rel, data in contents.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_bytes(data)
    return setswap.publish(out, "c_o", staging, identity)


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "copies"])
def test_the_clerks_files_follow_every_set_and_are_deleted_nowhere(tmp_path, monkeypatch,
                                                                    links):
    """Three runs; the clerk's file put into the first set is in every later one (linked,
    or copied on a file system without hard links) and in no leftover folder."""
    if not links:
        def no_link(src, dst):
            raise OSError(1, "Operation not permitted")
        monkeypatch.setattr(setswap.os, "link", no_link)
    out = tmp_path / "out"
    first = _publish(out, {"a.csv": b"1", "sub/b.xlsx": b"1"})
    (first.folder / "sub" / "mine.txt").write_bytes(b"mine")
    for n in (2, 3, 4):
        done = _publish(out, {"a.csv": str(n).encode(), "sub/b.xlsx": str(n).encode()})
        assert files(done.folder) == {"a.csv": str(n).encode(), "sub/b.xlsx": str(n).encode(),
                                      "sub/mine.txt": b"mine", MANIFEST: ANY}
        assert files(done.previous)["a.csv"] == str(n - 1).encode()
    assert sorted(p.name for p in out.iterdir()) == [".truoc", "c_o"]
    assert [p.name for p in (out / ".truoc").iterdir()] == ["c_o"]


def test_a_first_run_into_a_folder_of_the_clerks_files_reports_no_previous_results(tmp_path):
    """The folder held only the clerk's notes: they are carried over, and the run does not
    claim "the previous run's results are kept" (there were none)."""
    out = tmp_path / "out"
    (out / "c_o").mkdir(parents=True)
    (out / "c_o" / "ghi-chu.txt").write_bytes(b"notes")
    first = _publish(out, {"a.csv": b"1"})
    assert first.previous is None
    assert files(first.folder) == {"a.csv": b"1", "ghi-chu.txt": b"notes", MANIFEST: ANY}
    second = _publish(out, {"a.csv": b"2"})
    assert second.previous is not None and files(second.previous)["a.csv"] == b"1"


def test_a_file_the_clerk_dropped_into_the_previous_set_is_kept(tmp_path):
    out = tmp_path / "out"
    _publish(out, {"a.csv": b"1"})
    second = _publish(out, {"a.csv": b"2"})
    (second.previous / "chi-o-day.txt").write_bytes(b"only here")
    _publish(out, {"a.csv": b"3"})
    kept = out / ".truoc" / "c_o_giu-lai-1"
    assert files(kept) == {"chi-o-day.txt": b"only here", MANIFEST: ANY}


def test_a_failure_before_the_switch_changes_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _publish(out, {"a.csv": b"1"})
    _publish(out, {"a.csv": b"2"})
    before = files(out)

    def refused(a, b):
        raise OSError(13, "Permission denied")  # Windows: a file of the set is open in Excel

    monkeypatch.setattr(setswap, "_exchange", refused)
    with pytest.raises(OSError):
        _publish(out, {"a.csv": b"3"})
    assert files(out) == before


def test_a_run_never_clears_what_another_run_is_still_writing(tmp_path):
    """Two runs at once (the web page and the command line): the second one's clean-up
    leaves the first one's staging folder alone, and a set whose name starts like another's
    (``c_o`` and ``c_o-2``) never takes the other's leftovers for its own."""
    out, identity = tmp_path / "out", {"campaign": "c", "office": "o", "office_name": "O"}
    first = setswap.start(out, "c_o", identity)
    (first / "a.csv").write_bytes(b"first")
    other = setswap.start(out, "c_o-2", identity)
    second = setswap.start(out, "c_o", identity)  # runs recover(): first is busy
    assert first.is_dir() and other.is_dir()
    (second / "a.csv").write_bytes(b"second")
    setswap.publish(out, "c_o", first, identity)
    done = setswap.publish(out, "c_o", second, identity)
    assert (done.folder / "a.csv").read_bytes() == b"second"
    assert (done.previous / "a.csv").read_bytes() == b"first"
    assert other.is_dir()  # c_o-2's run is still writing
    setswap.discard(other)
    setswap.recover(out, "c_o")
    assert sorted(p.name for p in out.iterdir()) == [".truoc", "c_o"]


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()
