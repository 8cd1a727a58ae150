"""End to end: templates → filled by 'units' → consolidate → every figure checked.

Expected values are computed here from the data this test put into the workbooks, never
from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections import defaultdict
from pathlib import Path

import pytest
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

CAMPAIGN = load_campaign("nq02-2020")
UNITS = load_units(samples_dir() / "units.csv")


def _fill_inbox(inbox: Path, office_code: str, *, skip: set[str] = frozenset(),
                changes: dict[str, dict] | None = None) -> dict[str, dict]:
    """Write one filled workbook per child of ``office_code``; return the values per unit."""
    inbox.mkdir(parents=True, exist_ok=True)
    office = UNITS.get(office_code)
    data: dict[str, dict] = {}
    for unit in UNITS.children(office_code):
        if unit.code in skip:
            continue
        values = sample_values(CAMPAIGN, random.Random(f"e2e-{unit.code}"))
        values.update((changes or {}).get(unit.code, {}))
        book = fill_workbook(template_bytes(CAMPAIGN, unit, office), values,
                             modified=dt.datetime(2021, 1, 15, 9, 0))
        (inbox / f"{unit.code} báo cáo.xlsx").write_bytes(book)
        data[unit.code] = values
    return data


def _expected_office_values(data: dict[str, dict]) -> dict[tuple[str, str, str], object]:
    """What the office's own figures must be: sums per (form, row, column) over units, ratios
    from summed numerators and denominators, list rows concatenated in unit order."""
    sums: dict[tuple[str, str, str], float] = defaultdict(float)
    seen: set[tuple[str, str, str]] = set()
    lists: dict[str, list[dict]] = defaultdict(list)
    for unit_code in sorted(data, key=lambda c: list(UNITS.units).index(c)):
        values = data[unit_code]
        for form in CAMPAIGN.forms:
            if form.kind == "list":
                rows = sorted({int(r) for (f, r, _c) in values if f == form.id})
                for r in rows:
                    lists[form.id].append({c: v for (f, rr, c), v in values.items()
                                           if f == form.id and rr == str(r)})
                continue
            for col in form.input_columns:
                if col.aggregate != "sum":
                    continue
                for row_key in form.row_keys():
                    v = values.get((form.id, row_key, col.key))
                    if v is not None:
                        sums[(form.id, row_key, col.key)] += float(v)
                        seen.add((form.id, row_key, col.key))
    expected: dict[tuple[str, str, str], object] = {k: sums[k] for k in seen}
    for form_id, rows in lists.items():
        for i, row in enumerate(rows, start=1):
            for col_key, v in row.items():
                expected[(form_id, str(i), col_key)] = v
    return expected


def _office_cells(summary: Path) -> dict[tuple[str, str, str], object]:
    book = load_workbook(summary, data_only=True)
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    assert meta.kind == "summary"
    return {(c.form, c.row, c.column): book[c.sheet][c.cell].value for c in meta.cells}


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(actual, (int, float)) and math.isclose(actual, expected, abs_tol=1e-9)
    if isinstance(expected, dt.datetime):
        if isinstance(actual, dt.datetime):
            return actual.date() == expected.date()
        return str(actual)[:10] == expected.date().isoformat()
    return actual == expected


def _run(inbox: Path, office_code: str, out: Path):
    result = consolidate(inbox, CAMPAIGN, UNITS, UNITS.get(office_code),
                         now=dt.datetime(2021, 2, 1, tzinfo=dt.UTC))
    paths = write_outputs(result, result.frames, out)
    return result, paths


def _read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
def district_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tx")
    bad = {("PL2", "-", "bt_so_luong"): 1, ("PL2", "-", "bt_thac_sy"): 1,
           ("PL2", "-", "bt_dai_hoc"): 1}
    data = _fill_inbox(root / "inbox", "TX", skip={"TX32"}, changes={"TX07": bad})
    result, paths = _run(root / "inbox", "TX", root / "out")
    return data, result, paths


def test_statuses(district_run):
    data, _result, paths = district_run
    rows = {r["unit_code"]: r for r in _read_csv(paths.submissions_csv)}
    assert rows["TX32"]["status"] == "missing"
    assert rows["TX07"]["status"] == "rejected"
    accepted = {c for c, r in rows.items() if r["status"] == "accepted"}
    assert accepted == set(data) - {"TX07"}


def test_planted_rule_violation_is_found_at_its_cell(district_run):
    _data, _result, paths = district_run
    findings = [f for f in _read_csv(paths.findings_csv) if f["unit_code"] == "TX07"]
    assert any(f["code"] == "rule_violation" and f["form"] == "PL2"
               and f["severity"] == "error" for f in findings)
    book = load_workbook(io.BytesIO(template_bytes(CAMPAIGN, UNITS.get("TX07"), UNITS.get("TX"))))
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    rule_cells = {c.cell for c in meta.cells if c.form == "PL2"
                  and c.column in ("bt_so_luong", "bt_thac_sy", "bt_dai_hoc", "bt_cd_tc")}
    assert any(f["cell"] in rule_cells for f in findings if f["code"] == "rule_violation")


def test_values_csv_equals_what_units_entered(district_run):
    data, _result, paths = district_run
    got = {(r["unit_code"], r["form"], r["row"], r["column"]): r["value"]
           for r in _read_csv(paths.values_csv)}
    assert not any(k[0] == "TX07" for k in got), "a rejected unit's values must stay out"
    for unit_code, values in data.items():
        if unit_code == "TX07":
            continue
        for (form, row, col), v in values.items():
            actual = got.pop((unit_code, form, row, col))
            if isinstance(v, dt.datetime):
                assert actual == v.date().isoformat()
            elif isinstance(v, (int, float)):
                assert float(actual) == pytest.approx(float(v))
            else:
                assert actual == v
    assert got == {}, f"values.csv holds values nobody entered: {list(got)[:5]}"


def test_summary_totals_equal_sums_over_accepted_units(district_run):
    data, _result, paths = district_run
    accepted = {c: v for c, v in data.items() if c != "TX07"}
    expected = _expected_office_values(accepted)
    actual = _office_cells(paths.summary)
    for key, value in expected.items():
        assert _same(actual.get(key), value), f"{key}: {actual.get(key)!r} != {value!r}"


def test_summary_rates_are_recomputed_not_averaged(district_run):
    data, _result, paths = district_run
    accepted = [v for c, v in data.items() if c != "TX07"]
    num = sum(v.get(("PL5", "-", "bhyt_so_nguoi"), 0) for v in accepted)
    den = sum(v.get(("PL5", "-", "bhyt_tong_so"), 0) for v in accepted)
    from toolkit.spec.layout import form_layout  # the summary's own layout of PL5

    book = load_workbook(paths.summary, data_only=True)
    sheet = book["PL5"]
    # the last "Tổng cộng" of column A (the signature block follows the table)
    total_label_col = [c for c in sheet.iter_rows(min_col=1, max_col=1)
                       if c[0].value == "Tổng cộng"][-1][0]
    col = form_layout(CAMPAIGN.form("PL5")).columns["bhyt_ty_le"] + 1
    assert sheet.cell(row=total_label_col.row, column=col).value == pytest.approx(num / den)


def test_province_rolls_up_district_summaries(tmp_path):
    """Districts consolidate their units; the province consolidates the three summaries and
    its figures equal the sums over all base units."""
    province_inbox = tmp_path / "province"
    province_inbox.mkdir()
    all_data: dict[str, dict] = {}
    for district in ("TX", "TS", "NL"):
        data = _fill_inbox(tmp_path / district / "inbox", district)
        all_data.update(data)
        _result, paths = _run(tmp_path / district / "inbox", district, tmp_path / district / "out")
        (province_inbox / paths.summary.name).write_bytes(paths.summary.read_bytes())
    result, paths = _run(province_inbox, "TDTH", tmp_path / "province_out")
    assert {s.unit_code for s in result.submissions if s.status == "accepted"} == {"TX", "TS", "NL"}
    expected = {k: v for k, v in _expected_office_values(all_data).items()
                if CAMPAIGN.form(k[0]).kind != "list"}
    actual = _office_cells(paths.summary)
    for key, value in expected.items():
        assert _same(actual.get(key), value), f"{key}: {actual.get(key)!r} != {value!r}"
    # values.csv of the province lists each district's totals under the district code
    rows = _read_csv(paths.values_csv)
    numeric = {c.key for c in CAMPAIGN.form("PL4").columns if c.is_numeric}
    tx = {(r["form"], r["row"], r["column"]): float(r["value"]) for r in rows
          if r["unit_code"] == "TX" and r["form"] == "PL4" and r["column"] in numeric}
    assert tx, "the province's values.csv must list Thọ Xuân's PL4 totals"
    tx_expected = _expected_office_values({c: v for c, v in all_data.items()
                                           if UNITS.get(c).parent == "TX"})
    for key, value in tx.items():
        assert value == pytest.approx(tx_expected[key])
