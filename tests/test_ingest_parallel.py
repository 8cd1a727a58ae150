"""Reading an inbox with worker processes gives exactly what reading it in one process gives:
the same submissions, cells, findings and skipped files, in the same order."""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

import pytest

import toolkit.ingest as ingest_module
from toolkit.fill import fill_workbook, sample_values
from toolkit.ingest import ingest
from toolkit.spec import load_campaign
from toolkit.templates import template_bytes
from toolkit.units import Unit

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
    monkeypatch.setenv(ingest_module.JOBS_ENV, "1")
    alone = ingest(inbox, CAMPAIGN)
    monkeypatch.setenv(ingest_module.JOBS_ENV, "2")
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_FILES", 2)
    assert ingest_module._jobs(len(alone.submissions)) == 2
    calls: list[int] = []
    together = ingest(inbox, CAMPAIGN, progress=calls.append)
    assert _dump(together) == _dump(alone)
    assert len(calls) == len(alone.submissions) + len(alone.skipped)
    assert any(s.cells for s in together.submissions)
    # strings of the map are shared between files, not copied per file
    first, second = [s for s in together.submissions if s.cells][:2]
    assert first.cells[0].form is second.cells[0].form


def test_small_inbox_is_read_in_this_process(monkeypatch):
    monkeypatch.delenv(ingest_module.JOBS_ENV, raising=False)
    assert ingest_module._jobs(ingest_module.PARALLEL_MIN_FILES - 1) == 1
    monkeypatch.setenv(ingest_module.JOBS_ENV, "1")
    assert ingest_module._jobs(10_000) == 1
