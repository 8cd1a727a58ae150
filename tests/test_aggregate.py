"""Aggregation on hand-built frames: expected figures are computed here from the test data."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from toolkit.report.aggregate import aggregate
from toolkit.spec.load import load_campaign
from toolkit.spec.units import Unit

NAN = float("nan")


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("nq02-2020")


UNITS = [
    Unit("TX01", "Đoàn thị trấn Thọ Xuân", "co_so", "TX", ""),
    Unit("TX02", "Đoàn thị trấn Lam Sơn", "co_so", "TX", ""),
    Unit("TX03", "Đoàn thị trấn Sao Vàng", "co_so", "TX", ""),
]


def frame(campaign, form_id: str, records: list[dict]) -> pd.DataFrame:
    """A wide frame as validation produces it: file, unit_code, row, then input columns."""
    form = campaign.form(form_id)
    keys = [c.key for c in form.input_columns]
    rows = []
    for rec in records:
        row = {"file": f"{rec['unit_code']}.xlsx", "unit_code": rec["unit_code"],
               "row": rec.get("row", "-")}
        for key in keys:
            col = form.column(key)
            row[key] = rec.get(key, NAN if col.is_numeric else None)
        rows.append(row)
    return pd.DataFrame(rows, columns=["file", "unit_code", "row", *keys])


def by_key(summary):
    return {r.key: r for r in summary.rows}


# --------------------------------------------------------------------------- PL5 single_row

PL5 = [
    # unit, tap_hop num/den, bhyt num/den, money, kiem_tra (TX03 leaves kiem_tra blank)
    {"unit_code": "TX01", "tap_hop_so_nguoi": 90.0, "tap_hop_tong_so": 100.0,
     "bhyt_so_nguoi": 1.0, "bhyt_tong_so": 2.0, "lam_nha_so_tien": 0.1, "kiem_tra": 4.0,
     "tap_hop_chi_tieu": 85.0},
    {"unit_code": "TX02", "tap_hop_so_nguoi": 10.0, "tap_hop_tong_so": 1000.0,
     "bhyt_so_nguoi": 30.0, "bhyt_tong_so": 30.0, "lam_nha_so_tien": 0.2, "kiem_tra": 0.0,
     "tap_hop_chi_tieu": 90.0},
    {"unit_code": "TX03", "tap_hop_so_nguoi": 450.0, "tap_hop_tong_so": 500.0,
     "lam_nha_so_tien": 12.5},
]


def pl5_summary(campaign, records=PL5, units=UNITS):
    frames = {"PL5": frame(campaign, "PL5", records)}
    result = aggregate(campaign, frames, units)
    return next(s for s in result if s.form.id == "PL5")


def test_one_summary_per_form_in_campaign_order(campaign):
    result = aggregate(campaign, {"PL5": frame(campaign, "PL5", PL5)}, UNITS)
    assert [s.form.id for s in result] == [f.id for f in campaign.forms]


def test_single_row_unit_rows_then_office_row(campaign):
    summary = pl5_summary(campaign)
    assert [(r.kind, r.key) for r in summary.rows] == [
        ("unit", "TX01"), ("unit", "TX02"), ("unit", "TX03"), ("office", "-")]
    assert [r.label for r in summary.rows] == [u.name for u in UNITS] + ["Tổng cộng"]
    assert summary.rows[0].unit_code == "TX01"
    assert summary.rows[0].unit_name == UNITS[0].name


def test_office_ratio_is_sum_of_numerators_over_sum_of_denominators(campaign):
    summary = pl5_summary(campaign)
    num = sum(r["tap_hop_so_nguoi"] for r in PL5)
    den = sum(r["tap_hop_tong_so"] for r in PL5)
    mean_of_rates = sum(r["tap_hop_so_nguoi"] / r["tap_hop_tong_so"] for r in PL5) / len(PL5)
    office = by_key(summary)["-"].values
    assert office["tap_hop_ty_le"] == pytest.approx(num / den)
    assert not math.isclose(office["tap_hop_ty_le"], mean_of_rates, rel_tol=1e-3)
    # each unit row carries its own recomputed rate
    for rec, row in zip(PL5, summary.rows, strict=False):
        assert row.values["tap_hop_ty_le"] == pytest.approx(
            rec["tap_hop_so_nguoi"] / rec["tap_hop_tong_so"])


def test_ratio_uses_only_units_giving_both_parts(campaign):
    summary = pl5_summary(campaign)
    given = [r for r in PL5 if "bhyt_tong_so" in r]
    expected = sum(r["bhyt_so_nguoi"] for r in given) / sum(r["bhyt_tong_so"] for r in given)
    rows = by_key(summary)
    assert rows["-"].values["bhyt_ty_le"] == pytest.approx(expected)
    assert rows["TX03"].values["bhyt_ty_le"] is None


def test_zero_or_blank_denominator_gives_no_ratio(campaign):
    records = [{"unit_code": "TX01", "ho_ngheo_so_ho": 0.0, "ho_ngheo_tong_so": 0.0}]
    rows = by_key(pl5_summary(campaign, records, UNITS[:1]))
    assert rows["TX01"].values["ho_ngheo_ty_le"] is None
    assert rows["-"].values["ho_ngheo_ty_le"] is None
    assert rows["-"].values["tap_hop_ty_le"] is None


def test_sums_skip_blank_units_and_all_blank_stays_blank(campaign):
    office = by_key(pl5_summary(campaign))["-"].values
    assert office["kiem_tra"] == 4  # TX03 blank, TX02 zero: 4 + 0
    assert isinstance(office["kiem_tra"], int)  # counts stay whole
    assert office["tap_hop_so_nguoi"] == sum(r["tap_hop_so_nguoi"] for r in PL5)
    assert office["lam_nha_so_tien"] == 12.8  # exact: 0.1 + 0.2 + 12.5, not 12.800000000000001
    assert office["du_sinh_hoat"] is None  # every unit blank: blank, not 0
    assert office["tap_hop_chi_tieu"] is None  # aggregate: none
    unit = by_key(pl5_summary(campaign))["TX01"].values
    assert unit["tap_hop_chi_tieu"] == 85.0  # a unit row keeps its own value
    assert unit["du_sinh_hoat"] is None


def test_accepted_unit_without_frame_row_still_listed(campaign):
    summary = pl5_summary(campaign, PL5[:1], UNITS[:2])
    rows = by_key(summary)
    assert list(rows) == ["TX01", "TX02", "-"]
    assert all(v is None for v in rows["TX02"].values.values())


def test_records_of_units_not_listed_are_ignored(campaign):
    summary = pl5_summary(campaign, PL5, UNITS[:2])
    office = by_key(summary)["-"].values
    assert office["tap_hop_so_nguoi"] == PL5[0]["tap_hop_so_nguoi"] + PL5[1]["tap_hop_so_nguoi"]


# --------------------------------------------------------------------------- PL4 fixed_rows

PL4 = [
    {"unit_code": "TX01", "row": "2016", "tinh_so_nguoi": 2.0, "co_so_so_lop": 1.0,
     "ghi_chu": "Lớp kỹ năng"},
    {"unit_code": "TX01", "row": "2017", "tinh_so_nguoi": 3.0},
    {"unit_code": "TX02", "row": "2016", "tinh_so_nguoi": 5.0, "huyen_so_nguoi": 7.0},
    {"unit_code": "TX02", "row": "2018", "ghi_chu": "Không tổ chức"},
    {"unit_code": "TX03", "row": "2016", "tinh_so_nguoi": 1.0, "ghi_chu": "  "},
]


def pl4_summary(campaign):
    result = aggregate(campaign, {"PL4": frame(campaign, "PL4", PL4)}, UNITS)
    return next(s for s in result if s.form.id == "PL4")


def test_fixed_rows_per_year_sums_and_total(campaign):
    summary = pl4_summary(campaign)
    years = [r.key for r in campaign.form("PL4").rows]
    assert [r.key for r in summary.rows] == [*years, "total"]
    assert [r.kind for r in summary.rows] == ["office"] * len(years) + ["total"]
    assert summary.rows[-1].label == "Tổng cộng"
    rows = by_key(summary)
    for year in years:
        given = [r["tinh_so_nguoi"] for r in PL4 if r["row"] == year and "tinh_so_nguoi" in r]
        assert rows[year].values["tinh_so_nguoi"] == (sum(given) if given else None)
    assert rows["2016"].values["huyen_so_nguoi"] == 7
    assert rows["2019"].values["tinh_so_nguoi"] is None
    total = rows["total"].values
    assert total["tinh_so_nguoi"] == sum(r.get("tinh_so_nguoi", 0) for r in PL4)
    assert total["co_so_so_lop"] == 1
    assert total["co_so_so_nguoi"] is None


def test_fixed_rows_text_concatenated_with_unit_names(campaign):
    rows = by_key(pl4_summary(campaign))
    assert rows["2016"].values["ghi_chu"] == "Đoàn thị trấn Thọ Xuân: Lớp kỹ năng"
    assert rows["2018"].values["ghi_chu"] == "Đoàn thị trấn Lam Sơn: Không tổ chức"
    assert rows["2017"].values["ghi_chu"] is None


def test_fixed_rows_ratio_recomputed_at_each_level(campaign):
    # PL4 has no ratio column: give one to a copy of the form to check the rule
    from dataclasses import replace

    from toolkit.spec.campaign import Column

    form = campaign.form("PL4")
    ratio = Column(key="ty_le", header=("Tỷ lệ",), type="percent", aggregate="ratio",
                   numerator="co_so_so_lop", denominator="co_so_so_nguoi")
    form2 = replace(form, columns=(*form.columns, ratio))
    camp2 = replace(campaign, forms=(form2,))
    records = [
        {"unit_code": "TX01", "row": "2016", "co_so_so_lop": 1.0, "co_so_so_nguoi": 10.0},
        {"unit_code": "TX02", "row": "2016", "co_so_so_lop": 9.0, "co_so_so_nguoi": 10.0},
        {"unit_code": "TX01", "row": "2017", "co_so_so_lop": 1.0, "co_so_so_nguoi": 80.0},
    ]
    (summary,) = aggregate(camp2, {"PL4": frame(camp2, "PL4", records)}, UNITS)
    rows = by_key(summary)
    assert rows["2016"].values["ty_le"] == pytest.approx(10 / 20)
    assert rows["2017"].values["ty_le"] == pytest.approx(1 / 80)
    assert rows["total"].values["ty_le"] == pytest.approx(11 / 100)
    assert rows["2018"].values["ty_le"] is None


# --------------------------------------------------------------------------- PL1 list

PL1 = [
    {"unit_code": "TX02", "row": "1", "loai_van_ban": "Kế hoạch", "so_hieu": "12-KH/ĐTN",
     "ngay_ban_hanh": dt.date(2016, 3, 1), "trich_yeu": "Triển khai NQ 02"},
    {"unit_code": "TX01", "row": "2", "loai_van_ban": "Công văn", "so_hieu": "5-CV/ĐTN",
     "trich_yeu": "Hướng dẫn sơ kết"},
    {"unit_code": "TX01", "row": "1", "loai_van_ban": "Kế hoạch", "so_hieu": "3-KH/ĐTN",
     "ngay_ban_hanh": dt.date(2016, 1, 5), "trich_yeu": "Kế hoạch thực hiện"},
    {"unit_code": "TX01", "row": "3"},  # an empty row is not listed
    {"unit_code": "TX03", "row": "10", "loai_van_ban": "Khác", "so_hieu": "1/BC",
     "trich_yeu": "Báo cáo"},
    {"unit_code": "TX03", "row": "9", "loai_van_ban": "Báo cáo", "so_hieu": "2/BC",
     "trich_yeu": "Báo cáo quý"},
]


def test_list_rows_numbered_in_unit_then_row_order(campaign):
    result = aggregate(campaign, {"PL1": frame(campaign, "PL1", PL1)}, UNITS)
    summary = next(s for s in result if s.form.id == "PL1")
    expected = [("TX01", "3-KH/ĐTN"), ("TX01", "5-CV/ĐTN"), ("TX02", "12-KH/ĐTN"),
                ("TX03", "2/BC"), ("TX03", "1/BC")]
    assert [(r.unit_code, r.values["so_hieu"]) for r in summary.rows] == expected
    assert [r.key for r in summary.rows] == [str(i) for i in range(1, len(expected) + 1)]
    assert [r.label for r in summary.rows] == [r.key for r in summary.rows]
    assert {r.kind for r in summary.rows} == {"office"}
    first = summary.rows[0]
    assert first.unit_name == UNITS[0].name
    assert first.values["ngay_ban_hanh"] == dt.date(2016, 1, 5)
    assert summary.rows[1].values["ngay_ban_hanh"] is None


def test_list_choice_counts_every_choice_in_spec_order(campaign):
    result = aggregate(campaign, {"PL1": frame(campaign, "PL1", PL1)}, UNITS)
    summary = next(s for s in result if s.form.id == "PL1")
    choices = campaign.form("PL1").column("loai_van_ban").choices
    counts = summary.choice_counts["loai_van_ban"]
    assert list(counts) == list(choices)
    for choice in choices:
        assert counts[choice] == sum(1 for r in PL1 if r.get("loai_van_ban") == choice)
    assert counts["Nghị quyết"] == 0
    assert sum(counts.values()) == len(summary.rows)


def test_no_accepted_units(campaign):
    result = aggregate(campaign, {}, [])
    by_form = {s.form.id: s for s in result}
    assert [r.key for r in by_form["PL5"].rows] == ["-"]
    assert all(v is None for v in by_form["PL5"].rows[0].values.values())
    assert by_form["PL1"].rows == ()
    assert by_form["PL1"].choice_counts["loai_van_ban"]["Kế hoạch"] == 0
    assert by_form["PL4"].rows[-1].values["tinh_so_nguoi"] is None


def test_string_dtype_blanks_are_none(campaign):
    # pandas ≥3 stores missing text as NaN in a str column: still blank, never "nan"
    df = frame(campaign, "PL4", PL4)
    df["ghi_chu"] = df["ghi_chu"].astype("string")
    result = aggregate(campaign, {"PL4": df}, UNITS)
    rows = by_key(next(s for s in result if s.form.id == "PL4"))
    assert rows["2017"].values["ghi_chu"] is None
    assert rows["2016"].values["ghi_chu"] == "Đoàn thị trấn Thọ Xuân: Lớp kỹ năng"
