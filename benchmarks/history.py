"""Benchmark of the history (issue 17): a province of 2,000 base units with five earlier
periods in the store, and what comparing one run with it costs.

    python benchmarks/history.py --units 2000 --periods 5 --workdir /tmp/toolkit-history

Builds, without reading any workbook (the figures are what ``toolkit.testing.sample_values``
gives a unit of the built-in campaign): a units file of one province office and its base
units (no district level), five earlier periods recorded into a fresh history file, and the
typed frames of a sixth run. Then measures, median of ``--repeat`` runs:

- ``compare_run``: choosing the earlier period, loading its figures (merged units under their
  successor), the comparison and each unit's previous figures — what ``consolidate(history=…)``
  adds to a run;
- the run's extra in all: ``compare_run`` and then the plausibility warnings with those
  previous figures (peers, jumps, years), as ``consolidate()`` does them (issue 17: ≤ 1 s);
- the «So sánh» sheet alone, written into an empty workbook (the summary writes it in its
  helper process, beside the CSVs);
- recording the run into the history (done after the outputs are written);
- the store's size per 10,000 values.

Prints one JSON line per figure, then a short table.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas as pd
import xlsxwriter

from toolkit.history.compare import compare_run
from toolkit.history.plausibility import plausibility_findings
from toolkit.history.store import FileValues, HistoryStore
from toolkit.report.compare_sheet import write_compare_sheet
from toolkit.spec.compare import period_of
from toolkit.spec.load import load_campaign
from toolkit.spec.models import ConsolidationResult
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.testing import accepted_submissions, sample_values
from toolkit.write.styles import Styles

CAMPAIGN = load_campaign("nq02-2020")
OFFICE = Unit(code="TD", name="Tỉnh đoàn Thanh Hóa", level="tinh", parent="", email="")


def registry(n: int) -> UnitRegistry:
    units = {OFFICE.code: OFFICE}
    for i in range(1, n + 1):
        code = f"CS{i:04d}"
        # one unit in a hundred merged into the next one (history follows the successor)
        successor = f"CS{i + 1:04d}" if i % 100 == 0 and i < n else ""
        units[code] = Unit(code=code, name=f"Đoàn xã số {i}", level="co_so", parent="TD",
                           email="", successor=successor)
    return UnitRegistry(units=units, source="benchmark")


def frames_of(values: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """The typed frames a run of these values would give (FormFrames contract)."""
    out = {}
    for form in CAMPAIGN.forms:
        rows: dict[tuple[str, str], dict] = {}
        for code, vals in values.items():
            for (form_id, row, col), value in vals.items():
                if form_id == form.id:
                    rows.setdefault((code, row), {"file": f"{code}.xlsx", "unit_code": code,
                                                  "row": row})[col] = value
        out[form.id] = pd.DataFrame(list(rows.values()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--periods", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/toolkit-history"))
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "lich-su.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    units = registry(args.units)
    codes = [u.code for u in units.children(OFFICE.code)]
    rng = random.Random(17)
    total_values = 0
    record_seconds = []
    with HistoryStore(path) as store:
        for p in range(args.periods):
            period = f"{2001 + 5 * p} - {2005 + 5 * p}"
            files = []
            for code in codes:
                cells = [(f, r, c, v) for (f, r, c), v in sample_values(CAMPAIGN, rng).items()]
                files.append(FileValues(code, f"sha-{p}-{code}", f"{code}.xlsx", cells))
                total_values += len(cells)
            start = time.perf_counter()
            store.record(campaign=CAMPAIGN.id, period=period, office=OFFICE.code,
                         generated_at=f"{2006 + 5 * p}-01-31", spec_sha256="",
                         inbox_digest=f"run-{p}", source="benchmark", files=files)
            record_seconds.append(time.perf_counter() - start)
    with HistoryStore(path) as store:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    values = {code: sample_values(CAMPAIGN, rng) for code in codes if not units.get(code).successor}
    frames = frames_of(values)

    def timed(job) -> float:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            job()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    compare_s = timed(lambda: compare_run(path, CAMPAIGN, frames, units, OFFICE.code))
    submissions = accepted_submissions(CAMPAIGN, values)

    def compare_and_warn() -> None:
        _comparison, earlier = compare_run(path, CAMPAIGN, frames, units, OFFICE.code)
        plausibility_findings(CAMPAIGN, frames, submissions, units, previous=earlier)

    extra_s = timed(compare_and_warn)
    comparison, previous = compare_run(path, CAMPAIGN, frames, units, OFFICE.code)
    result = ConsolidationResult(campaign=CAMPAIGN, office=OFFICE, submissions=[],
                                 expected=units.children(OFFICE.code), forms=[],
                                 generated_at=pd.Timestamp("2021-01-31").to_pydatetime(),
                                 comparison=comparison, previous=previous)

    def sheet() -> None:
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
        write_compare_sheet(wb, Styles(wb), result)
        wb.close()

    sheet_s = timed(sheet)
    figures = {
        "units": args.units, "periods": args.periods, "values_in_store": total_values,
        "store_bytes": size, "bytes_per_10000_values": round(size / total_values * 10000),
        "record_one_period_s": round(statistics.median(record_seconds), 3),
        "compare_run_s": round(compare_s, 3), "compare_sheet_s": round(sheet_s, 3),
        "compare_and_warnings_s": round(extra_s, 3),
        "indicators": len(comparison.indicators), "previous_keys": len(previous),
        "period": period_of(CAMPAIGN), "previous_period": comparison.previous_period,
    }
    print(json.dumps(figures, ensure_ascii=False))
    print(f"store: {total_values:,} values in {size / 1e6:.1f} MB = "
          f"{size / total_values * 10000 / 1e3:.0f} kB per 10,000 values")
    print(f"record one period ({args.units} units): {figures['record_one_period_s']} s")
    print(f"compare_run: {figures['compare_run_s']} s; «So sánh» sheet: "
          f"{figures['compare_sheet_s']} s")
    print(f"a run's extra, comparison + plausibility warnings: "
          f"{figures['compare_and_warnings_s']} s")


if __name__ == "__main__":
    main()
