"""Targets campaigns end to end: allocation → templates (own targets, locked) → filled →
consolidated by each district → rolled up by the province.

Targets, results and completion are computed here from the data this test wrote, never
from the code under test: a count's target and result are sums; a rate's result is
Σ số đạt / Σ tổng số and its target is weighted by each unit's tổng số
(Σ tᵢ·nᵢ / Σ nᵢ, see toolkit/targets.py); completion = result / target.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from toolkit._infra.paths import samples_dir
from toolkit.pipeline import consolidate
from toolkit.report.outputs import write_outputs
from toolkit.spec.campaign import Campaign
from toolkit.spec.load import load_campaign
from toolkit.spec.meta import META_SHEET, parse_meta
from toolkit.spec.targets import targets_layout
from toolkit.spec.units import load_units
from toolkit.testing import fill_workbook
from toolkit.write.allocation import allocation_bytes, read_allocation
from toolkit.write.templates import template_bytes

UNITS = load_units(samples_dir() / "units.csv")
DISTRICTS = ("TX", "TS", "NL")
CAMPAIGNS = ("giua-nhiem-ky-2017-2022", "nq01-hoc-tap-2018")
NOW = dt.datetime(2020, 4, 20, tzinfo=dt.UTC)


def _targets_form(campaign: Campaign):
    (form,) = [f for f in campaign.forms if f.kind == "targets"]
    return form


def _allocate(campaign: Campaign, office: str, rng: random.Random) -> dict:
    """(form, unit, indicator) → target; about one unit in five is not given an indicator."""
    form = _targets_form(campaign)
    values = {}
    for unit in UNITS.children(office):
        for ind in form.indicators:
            if rng.random() < 0.2:
                continue
            values[(form.id, unit.code, ind.key)] = (
                float(rng.choice((80, 90, 100))) if ind.is_rate else float(rng.randint(5, 40)))
    for ind in form.indicators:  # the office's own target: the sum of its units' (counts)
        if not ind.is_rate:
            values[(form.id, office, ind.key)] = sum(
                v for (f, u, k), v in values.items() if k == ind.key and u != office)
    return values


def _results(campaign: Campaign, targets: dict, rng: random.Random) -> dict:
    """What a unit reports: a result for each indicator it was given (rates: số đạt and
    tổng số), nothing for the others; other forms get sample values."""
    from toolkit.testing import sample_values

    form = _targets_form(campaign)
    values = {k: v for k, v in sample_values(campaign, rng).items() if k[0] != form.id}
    for ind in form.indicators:
        if targets.get(ind.key) is None:
            continue
        if ind.is_rate:
            den = rng.randint(10, 60)
            values[(form.id, ind.key, "ket_qua_mau_so")] = den
            values[(form.id, ind.key, "ket_qua")] = rng.randint(den // 2, den)
        else:
            values[(form.id, ind.key, "ket_qua")] = rng.randint(0, 60)
        values[(form.id, ind.key, "du_kien")] = rng.randint(0, 80)
    return values


def _expected(form, units: dict[str, dict]) -> dict[str, dict[str, float | None]]:
    """Per indicator: target, result, completion over ``units`` (code → {targets, values})."""
    out = {}
    for ind in form.indicators:
        given = [(d["targets"].get(ind.key), d["values"]) for d in units.values()]
        kq = [v.get((form.id, ind.key, "ket_qua")) for _t, v in given]
        result = math.fsum(x for x in kq if x is not None)
        if ind.is_rate:
            pairs = [(t, v[(form.id, ind.key, "ket_qua")], v[(form.id, ind.key,
                                                               "ket_qua_mau_so")])
                     for t, v in given if t is not None]
            den = math.fsum(n for _t, _k, n in pairs)
            target = math.fsum(t * n for t, _k, n in pairs) / den
            rate = math.fsum(k for _t, k, _n in pairs) / den
            done = rate / (target / 100)
        else:
            target = math.fsum(t for t, _v in given if t is not None)
            done = result / target if target else None
        out[ind.key] = {"chi_tieu": target, "ket_qua": result, "done": done}
    return out


def _office_figures(summary: Path, form) -> dict[str, dict[str, float | None]]:
    """The summary's own figures through its ``_meta`` map, plus the completion cell."""
    book = load_workbook(summary, data_only=True)
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    cells = {(c.row, c.column): c.cell for c in meta.cells if c.form == form.id}
    ws = book[form.sheet]
    layout = targets_layout(form, summary=True)
    out = {}
    for ind in form.indicators:
        done = ws.cell(layout.row(ind.key).row + 1, layout.columns["ty_le_hoan_thanh"] + 1)
        out[ind.key] = {"chi_tieu": ws[cells[(ind.key, "chi_tieu")]].value,
                        "ket_qua": ws[cells[(ind.key, "ket_qua")]].value, "done": done.value}
    return out


def _close(actual, expected) -> bool:
    if expected is None:
        return actual in (None, "")
    return isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=1e-9)


@pytest.fixture(scope="module", params=CAMPAIGNS)
def run(request, tmp_path_factory):
    campaign = load_campaign(request.param)
    form = _targets_form(campaign)
    root = tmp_path_factory.mktemp(request.param)
    province = root / "province"
    province.mkdir()
    data: dict[str, dict[str, dict]] = {}
    templates: dict[str, bytes] = {}
    for district in DISTRICTS:
        rng = random.Random(f"{request.param}-{district}")
        office = UNITS.get(district)
        allocated = _allocate(campaign, district, rng)
        path = root / f"{district}-phan-bo.xlsx"
        path.write_bytes(allocation_bytes(campaign, UNITS, office, values=allocated))
        allocation = read_allocation(path, campaign, UNITS, office)
        assert not [f for f in allocation.findings if f.code not in ("allocation_blank",)]
        inbox = root / district
        inbox.mkdir()
        data[district] = {}
        for unit in UNITS.children(district):
            own = {ind.key: allocated.get((form.id, unit.code, ind.key))
                   for ind in form.indicators}
            assert allocation.targets[unit.code][form.id] == own
            book = template_bytes(campaign, unit, office, targets=allocation.targets[unit.code])
            templates[unit.code] = book
            values = _results(campaign, own, random.Random(f"r-{unit.code}"))
            (inbox / f"{unit.code}.xlsx").write_bytes(
                fill_workbook(book, values, modified=dt.datetime(2020, 4, 10, 9)))
            data[district][unit.code] = {"targets": own, "values": values}
        result = consolidate(inbox, campaign, UNITS, office, now=NOW)
        paths = write_outputs(result, result.frames, root / f"{district}-out")
        assert {s.status for s in result.submissions} == {"accepted"}, [
            (s.file, s.findings) for s in result.submissions if s.status != "accepted"]
        (province / paths.summary.name).write_bytes(paths.summary.read_bytes())
        data[district]["_summary"] = {"path": paths.summary}
    result = consolidate(province, campaign, UNITS, UNITS.get("TDTH"), now=NOW)
    paths = write_outputs(result, result.frames, root / "province-out")
    return campaign, form, data, templates, result, paths


def test_each_unit_sees_its_own_targets_locked(run):
    _campaign, form, data, templates, _result, _paths = run
    for district in DISTRICTS:
        for code, unit_data in data[district].items():
            if code.startswith("_"):
                continue
            book = load_workbook(io.BytesIO(templates[code]))
            meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
            cells = {(c.row, c.column): c.cell for c in meta.cells if c.form == form.id}
            ws = book[form.sheet]
            layout = targets_layout(form, unit_data["targets"])
            for ind in form.indicators:
                target = unit_data["targets"][ind.key]
                if target is None:
                    assert (ind.key, "chi_tieu") not in cells
                    cell = ws.cell(layout.row(ind.key).row + 1,
                                   layout.columns["chi_tieu"] + 1)
                    assert cell.value == "không giao"
                    assert ws[cells[(ind.key, "ket_qua")]].protection.locked is not False
                else:
                    cell = ws[cells[(ind.key, "chi_tieu")]]
                    assert cell.value == target
                    assert cell.protection.locked is not False
                    assert ws[cells[(ind.key, "ket_qua")]].protection.locked is False
                # a rate has a denominator cell (read even where not allocated, to warn)
                assert ((ind.key, "ket_qua_mau_so") in cells) == ind.is_rate
            assert ws.protection.sheet


def test_district_targets_results_completion(run):
    _campaign, form, data, _templates, _result, _paths = run
    for district in DISTRICTS:
        units = {c: d for c, d in data[district].items() if not c.startswith("_")}
        expected = _expected(form, units)
        actual = _office_figures(data[district]["_summary"]["path"], form)
        for key, figures in expected.items():
            for name, value in figures.items():
                assert _close(actual[key][name], value), (district, key, name,
                                                          actual[key][name], value)


def test_province_sees_each_district_and_the_whole(run):
    _campaign, form, data, _templates, result, paths = run
    everyone = {c: d for district in DISTRICTS for c, d in data[district].items()
                if not c.startswith("_")}
    expected = _expected(form, everyone)
    actual = _office_figures(paths.summary, form)
    for key, figures in expected.items():
        for name, value in figures.items():
            assert _close(actual[key][name], value), (key, name, actual[key][name], value)
    (fs,) = [f for f in result.forms if f.form.id == form.id]
    for district in DISTRICTS:  # each district's allocated target and result, as a unit row
        own = _expected(form, {c: d for c, d in data[district].items()
                               if not c.startswith("_")})
        rows = {r.key: r.values for r in fs.rows if r.kind == "unit" and r.unit_code == district}
        for key, figures in own.items():
            assert _close(rows[key]["chi_tieu"], figures["chi_tieu"]), (district, key)
            assert _close(rows[key]["ket_qua"], figures["ket_qua"]), (district, key)
            assert _close(rows[key]["ty_le_hoan_thanh"], figures["done"]), (district, key)
    book = load_workbook(paths.summary)  # a rate's target (a weighted mean) shows 1 decimal
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    where = {(c.row, c.column): c.cell for c in meta.cells if c.form == form.id}
    for ind in form.indicators:
        target = book[form.sheet][where[(ind.key, "chi_tieu")]]
        assert target.number_format == ("0.0" if ind.is_rate else "#,##0.###"), ind.key
    behind = {r.key: r.values["behind"] for r in fs.rows if r.kind == "office"}
    for ind in form.indicators:
        expected_behind = [UNITS.get(d).name for d in DISTRICTS
                           if (x := _expected(form, {c: v for c, v in data[d].items()
                                                     if not c.startswith("_")})[ind.key][
                               "done"]) is not None and x < 1 - 1e-9]
        assert behind[ind.key] == expected_behind, ind.key


def test_allocation_that_does_not_add_up(tmp_path):
    campaign = load_campaign("giua-nhiem-ky-2017-2022")
    form = _targets_form(campaign)
    office = UNITS.get("TS")
    values = {(form.id, u.code, ind.key): 10.0 for u in UNITS.children("TS")
              for ind in form.indicators}
    values[(form.id, "TS", "doan_vien_moi")] = 10.0 * len(UNITS.children("TS")) + 7
    values[(form.id, "TS", "ky_nang_thuc_hanh")] = 10.0 * len(UNITS.children("TS"))
    first, second = UNITS.children("TS")[:2]
    values[(form.id, first.code, "chi_doan_moi")] = -2.0
    del values[(form.id, second.code, "cong_trinh_ntm")]
    # an allocation made with a units file that has one more unit than the office's file
    extra = tmp_path / "units.csv"
    extra.write_text((samples_dir() / "units.csv").read_text(encoding="utf-8")
                     + "TS99,Đoàn xã Mới Lập,co_so,TS,\n", encoding="utf-8")
    bigger = load_units(extra)
    path = tmp_path / "phan-bo.xlsx"
    path.write_bytes(allocation_bytes(campaign, bigger, bigger.get("TS"), values=values))
    allocation = read_allocation(path, campaign, UNITS, office)
    by_code: dict[str, list] = {}
    for f in allocation.findings:
        by_code.setdefault(f.code, []).append(f)
    book = load_workbook(path)
    meta = parse_meta(list(book[META_SHEET].iter_rows(values_only=True)))
    cell = {(c.row, c.column): c.cell for c in meta.cells}
    (mismatch,) = by_code["allocation_sum_mismatch"]
    assert mismatch.severity == "warning" and mismatch.cell == cell[("TS", "doan_vien_moi")]
    assert "khác" in mismatch.message and str(int(10 * len(UNITS.children("TS")) + 7)) in (
        mismatch.message)
    (negative,) = by_code["allocation_negative"]
    assert negative.cell == cell[(first.code, "chi_doan_moi")]
    assert allocation.targets[first.code][form.id]["chi_doan_moi"] is None
    blanks = {(f.unit_code, f.column) for f in by_code["allocation_blank"]}
    assert (second.code, "cong_trinh_ntm") in blanks
    assert [f.unit_code for f in by_code["allocation_unit_unknown"]] == ["TS99"]
    assert all(f.severity == "warning" for f in allocation.findings)
    assert all(f.message == f.message.strip() and "{" not in f.message
               for f in allocation.findings)


def test_result_for_an_indicator_not_allocated_is_a_warning_at_its_cell(tmp_path):
    campaign = load_campaign("giua-nhiem-ky-2017-2022")
    form = _targets_form(campaign)
    office = UNITS.get("TS")
    unit = UNITS.children("TS")[0]
    targets = {form.id: {ind.key: (None if ind.key == "gioi_thieu_dang" else
                                   (80.0 if ind.is_rate else 12.0))
                         for ind in form.indicators}}
    book = template_bytes(campaign, unit, office, targets=targets)
    meta = parse_meta(list(load_workbook(io.BytesIO(book))[META_SHEET].iter_rows(
        values_only=True)))
    cell = {(c.row, c.column): c.cell for c in meta.cells if c.form == form.id}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    values = {(form.id, "gioi_thieu_dang", "ket_qua"): 4, (form.id, "doan_vien_moi", "ket_qua"): 9}
    (inbox / "a.xlsx").write_bytes(fill_workbook(book, values))
    result = consolidate(inbox, campaign, UNITS, office, now=NOW)
    (sub,) = [s for s in result.submissions if s.unit_code == unit.code]
    assert sub.status == "accepted"
    (finding,) = [f for f in sub.findings if f.code == "result_without_target"]
    assert finding.severity == "warning"
    assert finding.cell == cell[("gioi_thieu_dang", "ket_qua")]
    assert "Giới thiệu đoàn viên ưu tú" in finding.message and "4" in finding.message


def test_targets_spec_mistakes_name_the_key(tmp_path):
    from toolkit.spec.errors import SpecError
    from toolkit.spec.load import parse_form

    base = {"id": "CT", "title": "Chỉ tiêu", "kind": "targets",
            "indicators": [{"key": "a", "name": "A", "kind": "rate", "default_target": 100}]}
    assert [c.key for c in parse_form(tmp_path / "ct.yaml", base).columns][:2] == [
        "chi_tieu", "ket_qua"]
    for change, key in (({"columns": []}, "columns"),
                        ({"indicators": [{"key": "a", "name": "A", "kind": "rate",
                                          "default_target": 120}]}, "default_target"),
                        ({"indicators": [{"key": "a", "name": "A", "kind": "ratio"}]}, "kind")):
        with pytest.raises(SpecError) as err:
            parse_form(tmp_path / "ct.yaml", {**base, **change})
        assert key in err.value.key


def test_cli_make_allocation_then_templates_and_local_campaigns(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from toolkit.cli import cli

    runner = CliRunner()
    alloc = tmp_path / "phan-bo.xlsx"
    res = runner.invoke(cli, ["make-allocation", "--campaign", "nq01-hoc-tap-2018",
                              "--office", "TX", "--out", str(alloc)])
    assert res.exit_code == 0, res.output
    args = ["make-templates", "--campaign", "nq01-hoc-tap-2018", "--office", "TX", "--targets",
            str(alloc), "--out", str(tmp_path / "t")]
    res = runner.invoke(cli, args)  # saved before any target was typed: refused, said so
    assert res.exit_code == 1 and "chưa có chỉ tiêu nào" in res.output
    campaign = load_campaign("nq01-hoc-tap-2018")
    alloc.write_bytes(allocation_bytes(campaign, UNITS, UNITS.get("TX"),
                                       values=_allocate(campaign, "TX", random.Random(7))))
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "t").glob("*.xlsx"))) == len(UNITS.children("TX")) + 1
    res = runner.invoke(cli, ["make-templates", "--campaign", "giua-nhiem-ky-2017-2022",
                              "--office", "TX", "--targets", str(alloc), "--out",
                              str(tmp_path / "u")])
    assert res.exit_code == 1 and "nq01-hoc-tap-2018" in res.output
    local = tmp_path / "schemas" / "rieng"
    shutil.copytree(Path(load_campaign("nq01-hoc-tap-2018").source).parent, local)
    text = (local / "campaign.yaml").read_text(encoding="utf-8")
    (local / "campaign.yaml").write_text(text.replace("id: nq01-hoc-tap-2018", "id: rieng"),
                                         encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["campaigns"])
    assert res.exit_code == 0
    assert "giua-nhiem-ky-2017-2022" in res.output and "10/04/2020" in res.output
    assert "(chiến dịch riêng) rieng" in res.output
