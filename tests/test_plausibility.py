"""Plausibility warnings (issue 17 item 3), at the level of the typed frames.

A province of 200 communes is generated with a realistic spread (:mod:`toolkit.testing`:
each column around its own typical level, big and small communes, report-to-report
variation) and must give no warning at all, over many seeds; outliers planted into it (a
×50 typo, an extra zero, 15 → 150 since the last report, a year that jumps) are each flagged
on their own cell with their own code. Medians, cells and expected texts are computed here
from the test's own data and the template layout.
"""

from __future__ import annotations

import io
import random
import shutil
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from toolkit._infra.paths import builtin_schemas_dir
from toolkit.author.workbook import read_workbook, workbook_bytes
from toolkit.author.workbook_vocab import WorkbookError
from toolkit.history.plausibility import plausibility_findings, year_rows
from toolkit.spec.campaign import Campaign, Plausibility
from toolkit.spec.confirm import checked_columns
from toolkit.spec.data import campaign_to_data, same_campaign
from toolkit.spec.errors import SpecError
from toolkit.spec.layout import form_layout
from toolkit.spec.load import campaign_from_data, list_builtin_campaigns, load_campaign
from toolkit.spec.models import Finding, Submission
from toolkit.spec.units import Unit, UnitRegistry
from toolkit.testing import (
    accepted_submissions,
    realistic_values,
    sample_values,
    typed_frames,
    typical_levels,
    unit_levels,
)

OFFICE = "TX"
Key = tuple[str, str, str]


@dataclass
class Province:
    """``n`` communes' reports as the pipeline hands them over: typed frames, submissions
    with their cells, the units; plus the values themselves and each unit's previous
    report for the test's own arithmetic."""

    campaign: Campaign
    values: dict[str, dict[Key, Any]]
    previous: dict[str, dict[Key, Any]]
    units: UnitRegistry

    @property
    def codes(self) -> list[str]:
        return list(self.values)

    def frames(self) -> dict[str, pd.DataFrame]:
        return typed_frames(self.campaign, self.values)

    def submissions(self) -> list[Submission]:
        return accepted_submissions(self.campaign, self.values)

    def previous_values(self) -> dict[tuple[str, str, str, str], float]:
        return {(code, f, r, c): float(v) for code, values in self.previous.items()
                for (f, r, c), v in values.items() if isinstance(v, (int, float))}

    def findings(self, *, previous: bool = False, **kwargs: Any) -> list[Finding]:
        return plausibility_findings(
            self.campaign, self.frames(), self.submissions(), self.units,
            previous=self.previous_values() if previous else None, **kwargs)

    def column(self, form: str, row: str, col: str) -> list[float]:
        return [float(v[(form, row, col)]) for v in self.values.values()
                if (form, row, col) in v]


def province(campaign: Campaign, n: int, seed: int, level: str = "co_so") -> Province:
    rng = random.Random(f"plausibility-{seed}")
    typical = typical_levels(campaign, rng)
    units = {OFFICE: Unit(code=OFFICE, name="Huyện đoàn Thọ Xuân", level="huyen", parent="",
                          email="")}
    values, previous = {}, {}
    for i in range(n):
        code = f"X{i:03d}"
        units[code] = Unit(code=code, name=f"Đoàn xã số {i}", level=level, parent=OFFICE,
                           email="")
        own = unit_levels(typical, rng)
        previous[code] = realistic_values(campaign, own, rng)
        values[code] = realistic_values(campaign, own, rng)
    return Province(campaign, values, previous, UnitRegistry(units))


def cell(campaign: Campaign, form: str, row: str, col: str) -> str:
    return form_layout(campaign.form(form)).cell(row, col)


def fig(x: float) -> str:
    """3100 → ``3.100``: thousands with dots, decimal comma (computed here, not by the code
    under test)."""
    whole, _, frac = f"{x:,.2f}".rstrip("0").rstrip(".").partition(".")
    return whole.replace(",", ".") + ("," + frac if frac else "")


# =========================================================================== plain data


@pytest.mark.parametrize("seed", range(12))
def test_200_units_of_plausible_data_give_no_warning(campaign: Campaign, seed: int) -> None:
    p = province(campaign, 200, seed)
    # the data is not flat: every judged column spreads like a real district's
    spreads = []
    for form in campaign.forms:
        for col in checked_columns(form):
            for row in form.row_keys():
                xs = p.column(form.id, row, col.key)
                if len(xs) >= 8 and statistics.median(xs) >= 20:
                    spreads.append(max(xs) / min(x for x in xs if x > 0))
    assert spreads and statistics.median(spreads) > 2.5
    assert p.findings(previous=True) == []


@pytest.mark.parametrize("campaign_id", list_builtin_campaigns())
def test_the_sample_generator_gives_no_warning(campaign_id: str) -> None:
    """sample_values() (0–12 per count, results up to 70: the sample inboxes, the
    benchmark's province) draws small figures at random, years independently: that is
    noise, not typos."""
    campaign = load_campaign(campaign_id)
    units = {OFFICE: Unit(code=OFFICE, name="Huyện đoàn", level="huyen", parent="", email="")}
    units |= {f"X{i}": Unit(code=f"X{i}", name=f"Xã {i}", level="co_so", parent=OFFICE,
                            email="") for i in range(32)}
    registry = UnitRegistry(units)
    for seed in range(10):
        reports = {f"X{i}": sample_values(campaign, random.Random(f"s{seed}-{i}"))
                   for i in range(32)}
        assert plausibility_findings(campaign, typed_frames(campaign, reports),
                                     accepted_submissions(campaign, reports), registry) == []


def test_many_equal_figures_and_small_ones_are_not_outliers(campaign: Campaign) -> None:
    """MAD = 0 (most communes have 1 Bí thư, a few 2) and 3 against 1 are not outliers; 20
    Bí thư where every other commune has 1 or 2 is."""
    p = province(campaign, 40, 1)
    for i, code in enumerate(p.codes):
        p.values[code][("PL2", "-", "bt_so_luong")] = 2 if i % 9 == 0 else 1
    p.values[p.codes[3]][("PL2", "-", "bt_so_luong")] = 3
    assert [f for f in p.findings() if f.column == "bt_so_luong"] == []
    p.values[p.codes[5]][("PL2", "-", "bt_so_luong")] = 20
    (found,) = [f for f in p.findings() if f.column == "bt_so_luong"]
    assert (found.unit_code, found.code, found.cell) == (
        p.codes[5], "plausibility_peer", cell(campaign, "PL2", "-", "bt_so_luong"))
    assert "20, gấp 20 lần trung vị của 40 cơ sở (1)" in found.message


def test_a_gigantic_figure_is_flagged_and_the_others_still_are(campaign: Campaign) -> None:
    """1e300 in a count cell passes validation (no maximum); its message must not stop the
    other warnings of the run."""
    p = province(campaign, 30, 8)
    a, b = p.codes[1], p.codes[2]
    p.values[a][("PL2", "-", "bch_so_luong")] = 1e300
    p.values[b][("PL5", "-", "du_sinh_hoat")] *= 50
    found = {f.unit_code: f for f in p.findings()}
    assert set(found) == {a, b}
    assert "1,000e+300, gấp" in found[a].message


def test_peers_are_judged_only_from_min_units(campaign: Campaign) -> None:
    p = province(campaign, 7, 2)
    code = p.codes[0]
    p.values[code][("PL2", "-", "bch_so_luong")] *= 50
    assert p.findings() == []
    assert len(province_with(p, extra=1).findings()) == 1


def province_with(p: Province, extra: int) -> Province:
    """``p`` with ``extra`` more plain communes (copies of the last one's figures)."""
    values = dict(p.values)
    units = dict(p.units.units)
    last = p.codes[-1]
    for i in range(extra):
        code = f"Y{i:03d}"
        values[code] = dict(p.values[last])
        units[code] = replace(units[last], code=code)
    return Province(p.campaign, values, p.previous, UnitRegistry(units))


# =========================================================================== planted


def _typical_unit(p: Province, form: str, row: str, col: str, low: float, high: float) -> str:
    """A unit whose figure sits between the ``low`` and ``high`` quantiles of the column."""
    ranked = sorted(p.codes, key=lambda c: float(p.values[c][(form, row, col)]))
    return ranked[int(len(ranked) * (low + high) / 2)]


@pytest.mark.parametrize("seed", range(4))
def test_planted_outliers_are_flagged_at_their_cells(campaign: Campaign, seed: int) -> None:
    p = province(campaign, 200, seed)
    planted: dict[tuple[str, str, str, str], str] = {}  # (unit, form, row, col) → code

    # a ×50 typo (3100 for 62) in a single-row form: far from the peers
    typo = _typical_unit(p, "PL2", "-", "bch_so_luong", 0.4, 0.6)
    p.values[typo][("PL2", "-", "bch_so_luong")] *= 50
    median = statistics.median(p.column("PL2", "-", "bch_so_luong"))  # the typo counts too
    typo_value = p.values[typo][("PL2", "-", "bch_so_luong")]
    planted[(typo, "PL2", "-", "bch_so_luong")] = "plausibility_peer"

    # an extra zero typed in PL5 (a commune at or above the median, in a column of figures
    # big enough that ×10 is more than the floor)
    pl5 = next(k for k in ("du_sinh_hoat", "doan_vien_moi", "kiem_tra", "bhyt_tong_so")
               if statistics.median(p.column("PL5", "-", k)) >= 5)
    zero = _typical_unit(p, "PL5", "-", pl5, 0.6, 0.8)
    p.values[zero][("PL5", "-", pl5)] *= 10
    planted[(zero, "PL5", "-", pl5)] = "plausibility_peer"

    # 15 → 150 since the last report (Ban Thường vụ), and 150 → 15 (Ban Chấp hành, tham gia
    # cấp ủy): the unit's own history
    grow, shrink = p.codes[7], p.codes[8]
    p.previous[grow][("PL2", "-", "btv_so_luong")] = 15
    p.values[grow][("PL2", "-", "btv_so_luong")] = 150
    planted[(grow, "PL2", "-", "btv_so_luong")] = "plausibility_jump"
    p.previous[shrink][("PL3", "-", "cap_uy")] = 150
    p.values[shrink][("PL3", "-", "cap_uy")] = 15
    planted[(shrink, "PL3", "-", "cap_uy")] = "plausibility_jump"

    # a year that jumps ×4 inside PL4 for a commune below the median: within the peers'
    # range, but not the commune's own trend
    col = max((c.key for c in checked_columns(campaign.form("PL4"))),
              key=lambda k: statistics.median(p.column("PL4", "2018", k)))
    year = _typical_unit(p, "PL4", "2018", col, 0.1, 0.3)
    before = p.values[year][("PL4", "2017", col)]
    p.values[year][("PL4", "2018", col)] = before * 4
    planted[(year, "PL4", "2018", col)] = "plausibility_trend"

    for unit, form, row, column in [k for k, code in planted.items()
                                    if code != "plausibility_jump"]:
        del p.previous[unit][(form, row, column)]  # not reported last time: no jump to see
    found = p.findings(previous=True)
    got = {(f.unit_code, f.form, f.row, f.column): f for f in found}
    assert {k: f.code for k, f in got.items()} == planted
    for (unit, form, row, column), f in got.items():
        assert f.severity == "warning"
        assert f.file == f"{unit}.xlsx"
        assert f.cell == cell(campaign, form, row, column)
        assert f.message.startswith(f"{form}!{f.cell} — ")

    peer = got[(typo, "PL2", "-", "bch_so_luong")]
    times = round(typo_value / median) if typo_value / median >= 10 else None
    assert (f"{fig(typo_value)}, gấp {times} lần trung vị của 200 cơ sở ({fig(median)})"
            in peer.message), peer.message
    assert "Ban Chấp hành" in peer.message and "kiểm tra lại" in peer.message
    assert ("150, gấp 10 lần kỳ báo cáo trước (15)"
            in got[(grow, "PL2", "-", "btv_so_luong")].message)
    assert ("15, chỉ bằng 1/10 kỳ báo cáo trước (150)"
            in got[(shrink, "PL3", "-", "cap_uy")].message)
    trend = got[(year, "PL4", "2018", col)]
    assert f"(năm 2018): {fig(before * 4)}, gấp 4 lần năm 2017 ({fig(before)})" in trend.message


def test_a_spike_is_flagged_once_and_a_drop_too(campaign: Campaign) -> None:
    """A single year typed ×10 jumps up and comes back: one warning, on that year; a series
    that drops to a tenth and stays there: one warning, on the year it dropped."""
    p = province(campaign, 5, 3)
    spike, drop = p.codes[0], p.codes[1]
    for y, v in zip(year_rows(campaign.form("PL6")), (40, 42, 420, 41, 43), strict=True):
        p.values[spike][("PL6", y, "giam_sat_so_cuoc")] = v
    for y, v in zip(year_rows(campaign.form("PL6")), (60, 58, 6, 5, 6), strict=True):
        p.values[drop][("PL6", y, "giam_sat_so_cuoc")] = v
    found = [f for f in p.findings() if f.column == "giam_sat_so_cuoc"]
    assert [(f.unit_code, f.row, f.code) for f in found] == [
        (spike, "2018", "plausibility_trend"), (drop, "2018", "plausibility_trend")]
    assert "6, chỉ bằng 1/9,7 năm 2017 (58)" in found[1].message


def test_jump_needs_the_ratio_and_the_floor(campaign: Campaign) -> None:
    p = province(campaign, 3, 4)
    code = p.codes[0]
    cases = {"bt_so_luong": (1, 4), "btv_so_luong": (20, 59), "bch_so_luong": (20, 61),
             "bt_thac_sy": (0, 16), "bt_dai_hoc": (16, 0), "bt_cd_tc": (3, 15)}
    for col, (before, now) in cases.items():
        p.previous[code][("PL2", "-", col)] = before
        p.values[code][("PL2", "-", col)] = now
    found = {f.column: f for f in p.findings(previous=True) if f.unit_code == code}
    # 1 → 4 and 3 → 15 are ×4 and ×5 but at most 15 apart (the floor); 20 → 59 is under ×3
    assert sorted(found) == ["bch_so_luong", "bt_dai_hoc", "bt_thac_sy"]
    assert "16, tăng mạnh so với kỳ báo cáo trước (0)" in found["bt_thac_sy"].message
    assert "0, giảm về 0 so với kỳ báo cáo trước (16)" in found["bt_dai_hoc"].message


def test_percent_text_and_list_columns_are_never_judged(campaign: Campaign) -> None:
    judged = {(f.id, c.key) for f in campaign.forms for c in checked_columns(f)}
    for form in campaign.forms:
        for col in form.columns:
            if (form.id, col.key) in judged:
                assert col.type in ("count", "number", "money") and col.is_input
                assert form.kind != "list"
    assert not any(f == "PL1" for f, _ in judged)
    assert any(c.type == "percent" for f in campaign.forms for c in f.columns)


def test_confirmed_figures_are_not_flagged_again(campaign: Campaign) -> None:
    p = province(campaign, 30, 5)
    a, b = p.codes[2], p.codes[3]
    p.values[a][("PL2", "-", "bch_so_luong")] *= 50
    p.values[b][("PL5", "-", "du_sinh_hoat")] *= 50
    assert {f.unit_code for f in p.findings()} == {a, b}
    assert {f.unit_code for f in p.findings(confirmed={(a, "PL2", "-")})} == {b}
    assert p.findings(confirmed={(a, "PL2", "-", "bch_so_luong"),
                                 (b, "PL5", "-", "du_sinh_hoat")}) == []
    # confirming another cell of the row does not hide this one
    assert {f.unit_code for f in p.findings(
        confirmed={(a, "PL2", "-", "btv_so_luong"), (b, "PL5", "-")})} == {a}


def test_thresholds_come_from_the_campaign(campaign: Campaign) -> None:
    p = province(campaign, 30, 6)
    a = p.codes[4]
    median = statistics.median(p.column("PL2", "-", "bch_so_luong"))
    p.values[a][("PL2", "-", "bch_so_luong")] = round(4 * median)  # under the peer ratio 5
    assert p.findings() == []
    lenient = replace(campaign, plausibility=Plausibility(peer_ratio=3.0, z=3.0))
    p4 = Province(lenient, p.values, p.previous, p.units)
    assert [f.unit_code for f in p4.findings()] == [a]
    strict = replace(campaign, plausibility=Plausibility(min_units=31))
    p.values[a][("PL2", "-", "bch_so_luong")] *= 50
    assert Province(strict, p.values, p.previous, p.units).findings() == []


def test_units_of_another_level_are_not_peers(campaign: Campaign) -> None:
    """A district's summary among communes (an office with both as children) is compared
    with its own level only."""
    p = province(campaign, 20, 7)
    big = p.codes[0]
    p.units.units[big] = replace(p.units.units[big], level="huyen")
    p.values[big] = {k: v * 30 if isinstance(v, (int, float)) and k[0] != "PL1" else v
                     for k, v in p.values[big].items()}
    assert p.findings() == []


# =========================================================================== the spec


def _campaign_copy(tmp_path: Path, extra: str) -> Path:
    src = builtin_schemas_dir() / "nq02-2020"
    dst = tmp_path / "nq02-2020"
    shutil.copytree(src, dst)
    path = dst / "campaign.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return dst


def test_thresholds_are_read_from_campaign_yaml_outside_the_hash(
        campaign: Campaign, tmp_path: Path) -> None:
    folder = _campaign_copy(tmp_path, "plausibility:\n  z: 4\n  floor: 20\n  min_units: 10\n")
    loaded = load_campaign(folder)
    assert loaded.plausibility == Plausibility(z=4.0, floor=20.0, min_units=10)
    assert campaign.plausibility == Plausibility()
    # thresholds say nothing about the forms: templates already sent stay valid
    assert loaded.spec_sha256 == campaign.spec_sha256
    data, forms = campaign_to_data(loaded)
    assert data["plausibility"] == {"z": 4, "min_units": 10, "floor": 20}
    assert "plausibility" not in campaign_to_data(campaign)[0]
    again = campaign_from_data(data, forms, folder / "campaign.yaml")
    assert same_campaign(again, loaded)


@pytest.mark.parametrize(("text", "key"), [
    ("plausibility:\n  z: -1\n", "plausibility.z"),
    ("plausibility:\n  ratio: 1\n", "plausibility.ratio"),
    ("plausibility:\n  min_units: 2.5\n", "plausibility.min_units"),
    ("plausibility:\n  zz: 3\n", "plausibility.zz"),
    ("plausibility:\n  floor: nhiều\n", "plausibility.floor"),
    ("plausibility: 3\n", "plausibility"),
])
def test_bad_thresholds_are_a_spec_error_naming_the_key(tmp_path: Path, text: str,
                                                        key: str) -> None:
    with pytest.raises(SpecError) as err:
        load_campaign(_campaign_copy(tmp_path, text))
    assert key in str(err.value)


def test_thresholds_round_trip_through_the_campaign_workbook(campaign: Campaign) -> None:
    custom = replace(campaign, plausibility=Plausibility(z=4.0, floor=25.0))
    data = campaign_to_data(custom)
    book = workbook_bytes(*data)
    ws = load_workbook(io.BytesIO(book))["Chiến dịch"]
    rows = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, ws.max_row + 1)}
    assert rows["Cảnh báo: ngưỡng điểm z"] == 4
    assert rows["Cảnh báo: chênh lệch tối thiểu"] == 25
    assert "Cảnh báo: số lần trung vị" not in rows  # a default: no row
    again = read_workbook(book)
    assert again == data
    assert campaign_from_data(*again, "sổ.xlsx").plausibility == custom.plausibility
    plain = load_workbook(io.BytesIO(workbook_bytes(*campaign_to_data(campaign))))
    assert not any(str(c.value).startswith("Cảnh báo") for c in plain["Chiến dịch"]["A"])


@pytest.mark.parametrize(("typed", "problem"), [(-2, "số dương"), ("nhiều", "không phải là số")])
def test_a_bad_threshold_in_the_workbook_names_its_row(campaign: Campaign, typed: Any,
                                                       problem: str) -> None:
    book = workbook_bytes(*campaign_to_data(replace(campaign,
                                                    plausibility=Plausibility(z=4.0))))
    wb = load_workbook(io.BytesIO(book))
    ws = wb["Chiến dịch"]
    row = next(r for r in range(2, ws.max_row + 1)
               if ws.cell(r, 1).value == "Cảnh báo: ngưỡng điểm z")
    ws.cell(row, 2).value = typed
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(WorkbookError) as err:
        read_workbook(out.getvalue())
    assert f"Trang «Chiến dịch», dòng {row}" in str(err.value) and problem in str(err.value)
