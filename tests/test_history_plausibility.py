"""Issue 17's two-period test, end to end through real workbooks: period 1 of a district of
24 communes consolidated and recorded; period 2 (one commune merged into its neighbour)
consolidated from the history with planted outliers — a figure ten times the unit's last
report, a figure a tenth of it, a year's spike inside a fixed-row form, a ×50 typo against
the peers. Every planted figure is flagged at its own cell (read from the file's own
``_meta`` map), in findings.csv, the unit's feedback workbook and the status sheet's
«Cần kiểm tra» column; nothing else is flagged, and the same two periods without the plants
give no warning at all. Figures come from the test's own generator
(:func:`toolkit.testing.realistic_values`: each unit's next report varies around its own
level, as real reports do)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from toolkit.history.record import record_result
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.spec.campaign import Campaign
from toolkit.spec.data import campaign_to_data
from toolkit.spec.load import campaign_from_data, load_campaign
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.testing import fill_workbook, realistic_values, typical_levels, unit_levels
from toolkit.write.templates import template_bytes

BUILTIN = load_campaign("nq02-2020")
OFFICE = Unit(code="TX", name="Huyện đoàn Thọ Xuân", level="huyen", parent="", email="")
CODES = [f"C{i:02d}" for i in range(1, 25)]
MERGED, SUCCESSOR = "C24", "C23"
# (unit, (form, row, column)) → how period 2's figure is made from period 1's (or, for the
# year's spike, from the same report's own figure)
PLANTED = {
    ("C03", ("PL2", "-", "bch_so_luong")): lambda before, own: 10 * before,
    ("C05", ("PL5", "-", "lam_nha_so_tien")): lambda before, own: round(before / 10, 1),
    ("C07", ("PL4", "2018", "co_so_so_nguoi")): lambda before, own: 6 * own,
    ("C09", ("PL5", "-", "du_sinh_hoat")): lambda before, own: 50 * own,
}
# the planted columns sit at a level where ×10 or ÷10 is far beyond the plausibility floor
LEVELS = {("PL2", "bch_so_luong"): 40.0, ("PL5", "lam_nha_so_tien"): 300.0,
          ("PL4", "co_so_so_nguoi"): 150.0, ("PL5", "du_sinh_hoat"): 60.0}
PERIOD1_YEARS = {str(y): str(y - 5) for y in range(2016, 2021)}


def _period1() -> Campaign:
    """The same forms for 2011–2015 under another campaign id (what nq02-2020 compares with
    when it names no campaign: its own most recent earlier period, or this one by id)."""
    data, forms = campaign_to_data(BUILTIN)
    data = {**data, "id": "nq02-2015", "period": "2011 - 2015",
            "document_date": dt.date(2016, 1, 6), "deadlines": {"co_so": dt.date(2016, 1, 20)}}
    forms = [{**f, "rows": [PERIOD1_YEARS[str(r)] for r in f["rows"]]} if "rows" in f else f
             for f in forms]
    return campaign_from_data(data, forms, "test/nq02-2015/campaign.yaml")


def _period2() -> Campaign:
    data, forms = campaign_to_data(BUILTIN)
    data = {**data, "compare_with": [{"campaign": "nq02-2015"}]}
    return campaign_from_data(data, forms, BUILTIN.source)


P1, P2 = _period1(), _period2()


def _units(*, merged: bool) -> UnitRegistry:
    units = {"TX": OFFICE}
    for code in CODES:
        gone = merged and code == MERGED
        units[code] = Unit(code=code, name=f"Đoàn xã {code}", level="co_so", parent="TX",
                           email=f"{code.lower()}@example.vn",
                           successor=SUCCESSOR if gone else "",
                           merged_on=dt.date(2020, 1, 1) if gone else None)
    return UnitRegistry(units=units, source="test")


def _reports(seed: int, *, plant: bool) -> tuple[dict[str, dict], dict[str, dict]]:
    """Period 1's and period 2's values of every unit. Each unit keeps its own levels from
    one report to the next; the successor's levels after the merger are both units' summed."""
    rng = random.Random(seed)
    typical = {**typical_levels(BUILTIN, rng), **LEVELS}
    own = {code: unit_levels(typical, rng) for code in CODES}
    p1 = {code: _rows(realistic_values(BUILTIN, own[code], rng), PERIOD1_YEARS)
          for code in CODES}
    merged = {key: own[SUCCESSOR][key] + own[MERGED][key] for key in own[SUCCESSOR]}
    p2 = {code: realistic_values(BUILTIN, merged if code == SUCCESSOR else own[code], rng)
          for code in CODES if code != MERGED}
    if plant:
        for (code, key), make in PLANTED.items():
            form, row, col = key
            before_key = (form, PERIOD1_YEARS.get(row, row), col)
            p2[code][key] = make(p1[code].get(before_key, 0), p2[code][key])
    return p1, p2


def _rows(values: dict, years: dict[str, str]) -> dict:
    """The same report with the fixed rows' years of period 1."""
    return {(f, years.get(r, r), c): v for (f, r, c), v in values.items()}


def _write_inbox(inbox: Path, campaign: Campaign, units: UnitRegistry,
                 reports: dict[str, dict]) -> None:
    inbox.mkdir(parents=True)
    for code, values in reports.items():
        book = fill_workbook(template_bytes(campaign, units.get(code), OFFICE), values,
                             modified=dt.datetime(2021, 1, 15, 9, 0))
        (inbox / f"{code}.xlsx").write_bytes(book)


def _two_periods(root: Path, seed: int, *, plant: bool) -> dict[str, Any]:
    history = root / "lich-su.sqlite"
    p1, p2 = _reports(seed, plant=plant)
    units1, units2 = _units(merged=False), _units(merged=True)
    _write_inbox(root / "inbox1", P1, units1, p1)
    first = consolidate(root / "inbox1", P1, units1, OFFICE, history=history)
    assert all(first.status_of(c) == "accepted" for c in CODES)
    write_outputs(first, first.frames, root / "out1")
    record_result(history, first)
    _write_inbox(root / "inbox2", P2, units2, p2)
    second = consolidate(root / "inbox2", P2, units2, OFFICE, history=history)
    assert all(second.status_of(c) == "accepted" for c in p2)
    paths = write_outputs(second, second.frames, root / "out2")
    return {"p1": p1, "p2": p2, "result": second, "paths": paths, "inbox": root / "inbox2"}


def _cell_of(book_path: Path, key: tuple[str, str, str]) -> str:
    """``PL2!N14``: where the file's own ``_meta`` map puts ``(form, row, column)``."""
    meta = load_workbook(book_path, read_only=True)["_meta"]
    rows = [tuple("" if v is None else str(v) for v in r) for r in meta.iter_rows(values_only=True)]
    header = rows.index(next(r for r in rows if r[:5] == ("form", "sheet", "row", "column",
                                                          "cell")))
    for form, sheet, row, column, cell, *_ in rows[header + 1:]:
        if (form, row, column) == key:
            return f"{sheet}!{cell}"
    raise KeyError(key)


def _flagged(result: Any) -> set[tuple[str, str]]:
    return {(f.unit_code, f"{f.form}!{f.cell}") for f in result.findings
            if f.code.startswith("plausibility")}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _two_periods(tmp_path_factory.mktemp("planted"), 17, plant=True)


def _expected(run: dict[str, Any]) -> set[tuple[str, str]]:
    return {(code, _cell_of(run["inbox"] / f"{code}.xlsx", key)) for code, key in PLANTED}


def test_every_planted_figure_is_flagged_at_its_cell_and_nothing_else(planted):
    assert _flagged(planted["result"]) == _expected(planted)
    for finding in planted["result"].findings:
        if finding.code.startswith("plausibility"):
            assert finding.severity == "warning"
    assert all(planted["result"].status_of(c) == "accepted" for c in planted["p2"])


def test_the_warnings_reach_findings_csv_the_feedback_and_the_status_sheet(planted):
    expected = _expected(planted)
    with open(planted["paths"].findings_csv, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    in_csv = {(r["unit_code"], f"{r['form']}!{r['cell']}") for r in rows
              if r["code"].startswith("plausibility")}
    assert in_csv == expected
    for code, where in expected:
        feedback = next(p for p in planted["paths"].feedback if code in p.name)
        sheet, cell = where.split("!")
        book = load_workbook(feedback)
        assert book[sheet][cell].comment is not None, (code, where)
        texts = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                 for v in row if isinstance(v, str)]
        assert any(where in t or cell in t for t in texts if "kiểm tra" in t), (code, where)
    status = load_workbook(planted["paths"].summary)["Tình hình nộp"]
    header_row = next(r for r in status.iter_rows() if any(c.value == "Cần kiểm tra" for c in r))
    check_col = next(c.column for c in header_row if c.value == "Cần kiểm tra")
    code_col = next(c.column for c in header_row if c.value in ("Mã", "Mã đơn vị"))
    listed: dict[str, str] = {}
    for row in status.iter_rows(min_row=header_row[0].row + 1):
        code = row[code_col - 1].value
        if code in CODES:
            listed[code] = str(row[check_col - 1].value or "")
    for code, where in expected:
        assert where.split("!")[1] in listed[code], (code, listed[code])
    for code in set(listed) - {c for c, _ in expected}:
        assert listed[code] in ("", "0"), (code, listed[code])


def test_the_merged_units_history_adds_up_under_its_successor(planted):
    previous = planted["result"].previous
    p1 = planted["p1"]
    key = ("PL2", "-", "bch_so_luong")
    assert previous[(SUCCESSOR, *key)] == p1[SUCCESSOR][key] + p1[MERGED][key]
    assert not any(k[0] == MERGED for k in previous)


@pytest.mark.parametrize("seed", [3, 29])
def test_two_plain_periods_give_no_plausibility_warning(tmp_path, seed):
    run = _two_periods(tmp_path, seed, plant=False)
    assert _flagged(run["result"]) == set()
