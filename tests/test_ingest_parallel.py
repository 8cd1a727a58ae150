"""Reading an inbox with worker processes gives exactly what reading it in one process gives:
the same submissions, cells, findings and skipped files, in the same order."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import sys
import time
from pathlib import Path

import pytest

import toolkit.read.reading as reading
from toolkit._infra import workers
from toolkit.read import limits
from toolkit.read.ingest import ingest
from toolkit.spec.load import load_campaign
from toolkit.spec.models import CellValue, PackedCells
from toolkit.spec.units import Unit
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
OFFICE = Unit("TX", "Huyện đoàn Thọ Xuân", "huyen", "TDTH", "tx@example.invalid")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="worker processes are used on Linux only")


def _dump(result) -> tuple:
    subs = [(s.file, s.sha256, s.size, s.status, s.reason, s.identity, s.sheet_names,
             s.modified_at, [(c.form, c.row, c.column, c.cell, c.raw) for c in s.cells],
             [(f.code, f.form, f.cell, f.severity, f.message) for f in s.findings])
            for s in result.submissions]
    return subs, result.skipped


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inbox")
    for i in range(4):
        unit = Unit(f"TX{i:02d}", f"Đoàn xã số {i}", "co_so", "TX", "u@example.invalid")
        values = sample_values(CAMPAIGN, random.Random(i))
        if i == 1:
            values[("PL4", "2019", "co_so_so_nguoi")] = "12 người"
        data = fill_workbook(template_bytes(CAMPAIGN, unit, OFFICE), values,
                             modified=dt.datetime(2021, 1, 10 + i))
        for copy in range(3):  # more files than workers, in nested folders
            (root / f"d{copy}").mkdir(exist_ok=True)
            (root / f"d{copy}" / f"{unit.code}.xlsx").write_bytes(data)
    (root / "d0" / "broken.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    (root / "d1" / "empty.xlsx").write_bytes(b"")
    (root / "d2" / "notes.txt").write_text("không phải bảng tính")
    (root / "~$lock.xlsx").write_bytes(b"\x00" * 162)
    return root


def test_workers_give_the_same_result_in_the_same_order(inbox, monkeypatch):
    monkeypatch.setenv(workers.JOBS_ENV, "0")
    alone = ingest(inbox, CAMPAIGN)
    monkeypatch.setenv(workers.JOBS_ENV, "2")
    assert workers.jobs_wanted(len(alone.submissions)) == 2
    calls: list[int] = []
    together = ingest(inbox, CAMPAIGN, progress=calls.append)
    assert _dump(together) == _dump(alone)
    assert len(calls) == len(alone.submissions) + len(alone.skipped)
    assert any(s.cells for s in together.submissions)
    # strings of the map are shared between files, not copied per file
    first, second = [s for s in together.submissions if s.cells][:2]
    assert first.cells[0].form is second.cells[0].form


def test_never_more_workers_than_files(monkeypatch):
    monkeypatch.delenv(workers.JOBS_ENV, raising=False)
    assert workers.jobs_wanted(1) == 1
    assert workers.jobs_wanted(0) == 0
    monkeypatch.setenv(workers.JOBS_ENV, "0")
    assert workers.jobs_wanted(10_000) == 0


def _slow_reader(original):
    def read(sub, data, campaign, units):
        if "TX02" in sub.file:
            time.sleep(60)  # a reader stuck on this file
        return original(sub, data, campaign, units)
    return read


def test_a_file_that_hangs_the_reader_is_stopped_at_the_time_limit(inbox, monkeypatch):
    monkeypatch.setenv(workers.JOBS_ENV, "2")
    monkeypatch.setattr(limits, "MAX_FILE_SECONDS", 1.5)
    monkeypatch.setattr(reading, "_read_into", _slow_reader(reading._read_into))
    start = time.monotonic()
    result = ingest(inbox, CAMPAIGN)
    assert time.monotonic() - start < 20  # three stuck files, two workers: not 3 × 60 s
    stuck = [s for s in result.submissions if "TX02" in s.file]
    assert len(stuck) == 3
    for sub in stuck:
        assert sub.status == "unidentified" and sub.cells == []
        assert [f.code for f in sub.findings] == ["read_timeout"]
        assert sub.findings[0].message == (
            f"{sub.file} — đọc tệp quá 1.5 giây nên đã dừng; hãy mở lại, lưu dạng .xlsx "
            "rồi gửi lại")
        assert sub.sha256 == hashlib.sha256(sub.path.read_bytes()).hexdigest()
    others = [s for s in result.submissions if "TX02" not in s.file and s.file.endswith(
        "xlsx") and s.cells]
    assert len(others) == 9  # every other unit's three copies read in full


def test_a_reader_that_crashes_the_process_stops_only_its_file(inbox, monkeypatch):
    monkeypatch.setenv(workers.JOBS_ENV, "2")

    def crash(sub, data, campaign, units):
        if sub.file == "d1/TX03.xlsx":
            os._exit(9)  # what a segfault in native code looks like from outside
        return original(sub, data, campaign, units)

    original = reading._read_into
    monkeypatch.setattr(reading, "_read_into", crash)
    result = ingest(inbox, CAMPAIGN)
    by_file = {s.file: s for s in result.submissions}
    crashed = by_file["d1/TX03.xlsx"]
    assert [f.code for f in crashed.findings] == ["reader_crashed"]
    assert crashed.status == "unidentified"
    assert by_file["d0/TX03.xlsx"].cells and by_file["d2/TX03.xlsx"].cells


def test_cells_are_packed_and_read_back_as_cell_values(inbox, monkeypatch):
    monkeypatch.setenv(workers.JOBS_ENV, "2")
    first, second = [s for s in ingest(inbox, CAMPAIGN).submissions if s.cells][:2]
    assert isinstance(first.cells, PackedCells)
    assert first.cells.places is second.cells.places  # one copy per template
    listed = list(first.cells)
    assert first.cells == listed and len(first.cells) == len(listed)
    assert first.cells[3] == listed[3] and first.cells[-1] == listed[-1]
    assert first.cells[2:5] == listed[2:5]
    assert isinstance(listed[0], CellValue) and listed[0].raw == first.cells.raws[0]
    assert PackedCells((), []) == [] and first.cells != []
    with pytest.raises(ValueError):
        PackedCells(first.cells.places, [])


def test_background_job_runs_in_a_helper_process(monkeypatch):
    monkeypatch.setenv(workers.JOBS_ENV, "2")
    here = os.getpid()
    with workers.Background(os.getpid) as job:
        assert job.result() not in (here, None)
    monkeypatch.setenv(workers.JOBS_ENV, "1")  # one CPU: no helper, the job runs here
    assert workers.Background(os.getpid).result() == here


def test_background_job_whose_helper_dies_is_done_here(monkeypatch):
    monkeypatch.setenv(workers.JOBS_ENV, "2")
    here = os.getpid()

    def job() -> str:
        if os.getpid() != here:
            os._exit(9)  # the helper crashes (native code, OOM killer)
        return "làm tại đây"

    assert workers.Background(job).result() == "làm tại đây"
