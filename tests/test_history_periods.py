"""Two periods of the same plan, end to end: period 1 (2011–2015) consolidated and recorded in
the history, period 2 (2016–2020, the built-in nq02-2020 naming nq02-2015 in ``compare_with``)
consolidated with one unit merged into another and one figure planted ten times too large.
The «So sánh» sheet of period 2's summary is read back cell by cell and every figure checked
against what this test computes from the values it put into the workbooks.

Then the same comparison from an empty history that only got period 1's ``values.csv`` or its
summary workbook through ``toolkit history import``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook

from toolkit.history.record import record_result
from toolkit.history.store import HistoryStore
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.spec.campaign import Campaign
from toolkit.spec.data import campaign_to_data
from toolkit.spec.load import campaign_from_data, load_campaign
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.testing import fill_workbook, sample_values
from toolkit.write.templates import template_bytes

BUILTIN = load_campaign("nq02-2020")
OFFICE = Unit(code="TX", name="Huyện đoàn Thọ Xuân", level="huyen", parent="", email="")
CODES = [f"X{i:02d}" for i in range(1, 9)]
PLACES = ("Hồng", "Trường", "Giang", "Sinh", "Hưng", "Lai", "Lập", "Minh")
NAMES = {c: f"Đoàn xã Xuân {n}" for c, n in zip(CODES, PLACES, strict=True)}
MERGED, SUCCESSOR = "X08", "X07"  # Xuân Minh merged into Xuân Lập before period 2
PLANTED = ("X03", ("PL2", "-", "bch_so_luong"))  # period 2: ten times its period-1 figure
SHEET = "So sánh"


def _units(*, merged: bool) -> UnitRegistry:
    units = {"TX": OFFICE}
    for code in CODES:
        units[code] = Unit(code=code, name=NAMES[code], level="co_so", parent="TX",
                           email=f"{code.lower()}@example.vn",
                           successor=SUCCESSOR if merged and code == MERGED else "",
                           merged_on=dt.date(2020, 1, 1) if merged and code == MERGED else None)
    return UnitRegistry(units=units, source="test")


def _period1_campaign() -> Campaign:
    """nq02-2020's forms for 2011–2015: another id, period, and years of the fixed rows."""
    data, forms = campaign_to_data(BUILTIN)
    data = {**data, "id": "nq02-2015", "period": "2011 - 2015",
            "document_date": dt.date(2016, 1, 6), "deadlines": {"co_so": dt.date(2016, 1, 20)}}
    years = {str(y): str(y - 5) for y in range(2016, 2021)}
    forms = [{**f, "rows": [years[str(r)] for r in f["rows"]]} if "rows" in f else f
             for f in forms]
    return campaign_from_data(data, forms, "test/nq02-2015/campaign.yaml")


def _period2_campaign() -> Campaign:
    """The built-in campaign's own YAML with ``compare_with`` added."""
    folder = Path(BUILTIN.source).parent
    data = yaml.safe_load((folder / "campaign.yaml").read_text(encoding="utf-8"))
    forms = [yaml.safe_load((folder / name).read_text(encoding="utf-8"))
             for name in data["forms"]]
    data["compare_with"] = [{"campaign": "nq02-2015"}]
    return campaign_from_data(data, forms, BUILTIN.source)


P1, P2 = _period1_campaign(), _period2_campaign()


def _fill(inbox: Path, campaign: Campaign, units: UnitRegistry, codes: list[str],
          seed: str, changes: dict[str, dict] | None = None) -> dict[str, dict]:
    inbox.mkdir(parents=True)
    data = {}
    for code in codes:
        values = sample_values(campaign, random.Random(f"{seed}-{code}"))
        values.update((changes or {}).get(code, {}))
        book = fill_workbook(template_bytes(campaign, units.get(code), OFFICE), values,
                             modified=dt.datetime(2021, 1, 15, 9, 0))
        (inbox / f"{code}.xlsx").write_bytes(book)
        data[code] = values
    return data


def _run(inbox: Path, campaign: Campaign, units: UnitRegistry, out: Path,
         history: Path | None) -> Any:
    result = consolidate(inbox, campaign, units, OFFICE, history=history,
                         now=dt.datetime(2021, 2, 1, tzinfo=dt.UTC))
    paths = write_outputs(result, result.frames, out)
    return result, paths


@pytest.fixture(scope="module")
def periods(tmp_path_factory):
    root = tmp_path_factory.mktemp("periods")
    history = root / "lich-su.sqlite"
    units1 = _units(merged=False)
    data1 = _fill(root / "inbox1", P1, units1, CODES, "p1")
    result1, paths1 = _run(root / "inbox1", P1, units1, root / "out1", history)
    assert all(result1.status_of(c) == "accepted" for c in CODES)
    record_result(history, result1)
    units2 = _units(merged=True)
    planted_unit, planted_key = PLANTED
    big = 10 * data1[planted_unit][planted_key]
    codes2 = [c for c in CODES if c != MERGED]
    data2 = _fill(root / "inbox2", P2, units2, codes2, "p2",
                  changes={planted_unit: {planted_key: big}})
    result2, paths2 = _run(root / "inbox2", P2, units2, root / "out2", history)
    assert all(result2.status_of(c) == "accepted" for c in codes2)
    return {"root": root, "history": history, "data1": data1, "data2": data2,
            "result2": result2, "paths1": paths1, "paths2": paths2, "units2": units2}


# --------------------------------------------------------------------------- expectations


def _figures(data: dict[str, dict], campaign: Campaign) -> dict[tuple[str, str, str], float]:
    """(unit, form, column) → the unit's figure as a comparison takes it: a single-row cell,
    a fixed-row form's column summed over its years; merged units under their successor."""
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for code, values in data.items():
        owner = SUCCESSOR if code == MERGED else code
        for (form_id, _row, col), value in values.items():
            form = campaign.form(form_id)
            if form.kind in ("single_row", "fixed_rows") and form.column(col).aggregate == "sum":
                out[(owner, form_id, col)] += float(value)
    return dict(out)


def _label(form_id: str, col: str) -> str:
    form = BUILTIN.form(form_id)
    label = form.column(col).label
    return f"{label} (cả giai đoạn 2016–2020)" if form.kind == "fixed_rows" else label


def _sheet_rows(summary: Path) -> list[tuple[Any, ...]]:
    book = load_workbook(summary, data_only=True)
    assert SHEET in book.sheetnames
    return list(book[SHEET].iter_rows(values_only=True))


def _sections(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Parse the sheet as a clerk reads it: part I (form, label) → figures; part II heading
    «FORM › label» → unit code → figures; part III heading → year → figures."""
    totals: dict[tuple[str, str], tuple[Any, ...]] = {}
    units: dict[str, dict[str, tuple[Any, ...]]] = {}
    trends: dict[str, dict[str, tuple[Any, ...]]] = {}
    part, heading = "", ""
    for row in rows:
        first = row[0]
        if isinstance(first, str) and first.startswith(("I.", "II.", "III.")):
            part = "III" if "DIỄN BIẾN" in first else first.split(".")[0]
            continue
        if isinstance(first, str) and " › " in first and row[1] is None:
            heading = first
            continue
        if not isinstance(first, (int, float)):
            continue
        figures = row[3:7]
        if part == "I":
            totals[(row[1], row[2])] = figures
        elif part == "II":
            units.setdefault(heading, {})[row[1]] = figures
        elif part == "III":
            trends.setdefault(heading, {})[row[2]] = figures
    return {"totals": totals, "units": units, "trends": trends}


def _check(figures: tuple[Any, ...], current: float | None, previous: float | None) -> None:
    def same(a: Any, b: float | None) -> bool:
        return a is None if b is None else (isinstance(a, (int, float))
                                             and math.isclose(a, b, abs_tol=1e-9))

    assert same(figures[0], current), figures
    assert same(figures[1], previous), figures
    delta = None if current is None or previous is None else current - previous
    assert same(figures[2], delta), figures
    ratio = None if delta is None or not previous else delta / previous
    assert same(figures[3], ratio), figures


COMPARED = [(f.id, c.key) for f in BUILTIN.forms if f.kind in ("single_row", "fixed_rows")
            for c in f.columns if c.aggregate == "sum"]


def test_compare_with_is_not_part_of_the_spec_hash():
    assert P2.compare_with[0].campaign == "nq02-2015"
    assert P2.spec_sha256 == BUILTIN.spec_sha256  # the golden templates stay as they are


def test_totals_equal_sums_of_each_periods_own_data(periods):
    parts = _sections(_sheet_rows(periods["paths2"].summary))
    now, before = _figures(periods["data2"], P2), _figures(periods["data1"], P1)
    assert len(parts["totals"]) == len(COMPARED)
    for form_id, col in COMPARED:
        current = math.fsum(v for (_u, f, c), v in now.items() if (f, c) == (form_id, col))
        previous = math.fsum(v for (_u, f, c), v in before.items() if (f, c) == (form_id, col))
        _check(parts["totals"][(form_id, _label(form_id, col))], current, previous)


def test_each_unit_against_its_own_earlier_figures_merged_unit_under_its_successor(periods):
    parts = _sections(_sheet_rows(periods["paths2"].summary))
    now, before = _figures(periods["data2"], P2), _figures(periods["data1"], P1)
    for form_id, col in COMPARED:
        lines = parts["units"][f"{form_id} › {_label(form_id, col)}"]
        assert MERGED not in lines  # its figures count under Xuân Lập
        assert set(lines) == {c for c in CODES if c != MERGED}
        for code, figures in lines.items():
            _check(figures, now.get((code, form_id, col)), before.get((code, form_id, col)))
    # the successor's previous figure is its own plus the merged unit's
    lines = parts["units"][f"PL2 › {_label('PL2', 'bch_so_luong')}"]
    d1 = periods["data1"]
    assert lines[SUCCESSOR][1] == d1[SUCCESSOR][("PL2", "-", "bch_so_luong")] + \
        d1[MERGED][("PL2", "-", "bch_so_luong")]


def test_planted_jump_shows_as_its_own_change(periods):
    parts = _sections(_sheet_rows(periods["paths2"].summary))
    unit, key = PLANTED
    before = periods["data1"][unit][key]
    figures = parts["units"][f"PL2 › {_label('PL2', key[2])}"][unit]
    assert figures[0] == 10 * before and figures[1] == before
    assert math.isclose(figures[3], 9.0)


def test_trend_of_fixed_row_forms_year_by_year(periods):
    parts = _sections(_sheet_rows(periods["paths2"].summary))
    data2 = periods["data2"]
    for form in (f for f in BUILTIN.forms if f.kind == "fixed_rows"):
        for col in (c for c in form.columns if c.aggregate == "sum"):
            lines = parts["trends"][f"{form.id} › {col.label}"]
            sums = {r.key: math.fsum(float(v[(form.id, r.key, col.key)]) for v in data2.values()
                                     if (form.id, r.key, col.key) in v) for r in form.rows}
            previous = None
            for r in form.rows:
                _check(lines[r.label], sums[r.key], previous)
                previous = sums[r.key]
            _check(lines["2020 so với 2016"], sums["2020"], sums["2016"])


def test_previous_figures_for_plausibility(periods):
    previous = periods["result2"].previous
    d1 = periods["data1"]
    key = ("PL2", "-", "bch_so_luong")
    assert previous[(SUCCESSOR, *key)] == d1[SUCCESSOR][key] + d1[MERGED][key]
    assert previous[("X01", "PL4", "2013", "co_so_so_lop")] == d1["X01"][("PL4", "2013",
                                                                            "co_so_so_lop")]
    assert not any(k[0] == MERGED for k in previous)


def test_rerunning_the_same_inbox_does_not_duplicate(periods, tmp_path):
    history = periods["history"]
    result = periods["result2"]
    first = record_result(history, result)
    again = record_result(history, result)
    assert first.new and not again.new
    with HistoryStore(history) as store:
        runs = store.runs()
        assert len([r for r in runs if r["campaign"] == "nq02-2020"]) == 1
        rows = store.values("nq02-2020", "2016 - 2020")
    keys = [(u, f, r, c) for u, f, r, c, _v in rows]
    assert len(keys) == len(set(keys))


# --------------------------------------------------------------------------- history import


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _compare_with(history: Path, periods: dict, out: Path) -> dict[str, Any]:
    _result, paths = _run(periods["root"] / "inbox2", P2, periods["units2"], out, history)
    return _sections(_sheet_rows(paths.summary))


def test_import_values_csv_then_compare(periods, tmp_path):
    history = tmp_path / "lich-su.sqlite"
    csv_path = periods["paths1"].values_csv
    done = _cli("history", "import", str(csv_path), "--history", str(history),
                "--period", "2011 - 2015", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nq02-2015" in done.stdout and "đã nạp" in done.stdout
    again = _cli("history", "import", str(csv_path), "--history", str(history),
                 "--period", "2011 - 2015", cwd=tmp_path)
    assert "không nạp lại" in again.stdout
    parts = _compare_with(history, periods, tmp_path / "out")
    now, before = _figures(periods["data2"], P2), _figures(periods["data1"], P1)
    for form_id, col in COMPARED:
        lines = parts["units"][f"{form_id} › {_label(form_id, col)}"]
        for code, figures in lines.items():
            _check(figures, now.get((code, form_id, col)), before.get((code, form_id, col)))
        previous = math.fsum(v for (_u, f, c), v in before.items() if (f, c) == (form_id, col))
        assert math.isclose(parts["totals"][(form_id, _label(form_id, col))][1], previous)


def test_import_summary_workbook_then_compare(periods, tmp_path):
    history = tmp_path / "lich-su.sqlite"
    summary = periods["paths1"].summary
    done = _cli("history", "import", str(summary), "--history", str(history),
                "--period", "2011 - 2015", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bảng tổng hợp" in done.stdout
    parts = _compare_with(history, periods, tmp_path / "out")
    before = _figures(periods["data1"], P1)
    for form_id, col in COMPARED:
        previous = math.fsum(v for (_u, f, c), v in before.items() if (f, c) == (form_id, col))
        figures = parts["totals"][(form_id, _label(form_id, col))]
        assert math.isclose(figures[1], previous), (form_id, col)
        # the summary holds the office's figures only: no unit has a previous figure
        lines = parts["units"][f"{form_id} › {_label(form_id, col)}"]
        assert all(f[1] is None for f in lines.values())


def test_import_summary_with_the_units_file_reads_each_units_row(periods, tmp_path):
    history = tmp_path / "lich-su.sqlite"
    units_csv = tmp_path / "don-vi.csv"
    units_csv.write_text("code,name,level,parent,email\nTX,Huyện đoàn Thọ Xuân,huyen,,\n" + "".join(
        f"{c},{NAMES[c]},co_so,TX,\n" for c in CODES), encoding="utf-8")
    done = _cli("history", "import", str(periods["paths1"].summary), "--history", str(history),
                "--period", "2011 - 2015", "--units", str(units_csv), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{len(CODES) + 1} đơn vị" in done.stdout
    parts = _compare_with(history, periods, tmp_path / "out")
    now, before = _figures(periods["data2"], P2), _figures(periods["data1"], P1)
    single = [(f, c) for f, c in COMPARED if BUILTIN.form(f).kind == "single_row"]
    for form_id, col in single:  # the summary's unit rows: each unit's earlier figure
        lines = parts["units"][f"{form_id} › {_label(form_id, col)}"]
        for code, figures in lines.items():
            _check(figures, now.get((code, form_id, col)), before.get((code, form_id, col)))


def test_import_without_a_known_period_says_what_to_add(periods, tmp_path):
    done = _cli("history", "import", str(periods["paths1"].values_csv), "--history",
                str(tmp_path / "h.sqlite"), cwd=tmp_path)
    assert done.returncode != 0
    assert "--period" in done.stderr and "Traceback" not in done.stderr


def test_no_history_no_sheet_but_trends_when_a_history_is_given(periods, tmp_path):
    result, paths = _run(periods["root"] / "inbox2", P2, periods["units2"], tmp_path / "a", None)
    assert result.comparison is None
    assert SHEET not in load_workbook(paths.summary).sheetnames
    empty = tmp_path / "empty.sqlite"
    result, paths = _run(periods["root"] / "inbox2", P2, periods["units2"], tmp_path / "b", empty)
    assert not empty.exists()  # comparing never makes the file; recording does
    assert result.comparison is not None and not result.comparison.has_previous
    rows = _sheet_rows(paths.summary)
    assert any(isinstance(r[0], str) and "chưa có số liệu kỳ trước" in r[0] for r in rows)
    assert _sections(rows)["trends"]
    dataclasses.replace(result.comparison)  # a plain frozen value the report can keep


def test_report_draft_states_the_change(periods):
    from docx import Document

    from toolkit.report.word import render

    data = render(periods["result2"], None)
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "So với kỳ trước (2011 - 2015):" in text
    key = ("PL2", "-", "bch_so_luong")
    now = sum(v[key] for v in periods["data2"].values())
    before = sum(v[key] for v in periods["data1"].values())
    pct = f"{abs(100 * (now - before) / before):.1f}".replace(".", ",").removesuffix(",0")
    word = "tăng" if now > before else "giảm"
    label = BUILTIN.form("PL2").column("bch_so_luong").label
    assert f"{label} {now}, {word} {pct}% (kỳ trước {before})" in text


def test_the_sheet_prints_on_a4_portrait_at_nine_points_or_more(periods):
    ws = load_workbook(periods["paths2"].summary)[SHEET]
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    widths = [ws.column_dimensions[letter].width for letter in "ABCDEFG"]
    px = sum(w * 7 + 5 for w in widths)  # a character of the default font is ~7 px wide
    printable = (8.27 - ws.page_margins.left - ws.page_margins.right) * 96
    assert 11 * min(1.0, printable / px) >= 9
    assert ws.print_area and "$G$" in str(ws.print_area)
